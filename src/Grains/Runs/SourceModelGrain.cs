using System.Diagnostics;
using System.Globalization;
using FuseChat.Fusion.Representations;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Placement;
using FuseChat.Torch;
using FuseChat.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Stage 1 for one model (key "{run}/{model}"): representation shards, resumed shard by shard. Feeds the
/// tokens and tokens/s series of <see cref="FuseChatMetrics"/> (stage "representations") when the silo has it.
/// </summary>
[RequiresGpu]
public sealed class SourceModelGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<RepresentationWork>> state,
    IServiceProvider services,
    ILogger<SourceModelGrain> logger)
    : StageWorkerGrain<RepresentationWork>(state, logger), ISourceModelGrain
{
    private const string MetricsStage = "representations";
    private readonly FuseChatMetrics? _metrics = services.GetService<FuseChatMetrics>();

    /// <inheritdoc />
    protected override RunStage Stage => RunStage.Representations;

    /// <inheritdoc />
    public Task<WorkStatus> StartAsync(RepresentationWork work) => StartWorkAsync(work);

    /// <inheritdoc />
    protected override string RunIdOf(RepresentationWork work) => work.RunId;

    /// <inheritdoc />
    protected override string? RunOutputFolderOf(RepresentationWork work) => RunPlan.OutputFolderOfWorkFolder(work.OutputFolder);

    /// <inheritdoc />
    protected override IEnumerable<string> Inputs(RepresentationWork work) =>
        InsideRun(RunPlan.OutputFolderOfWorkFolder(work.OutputFolder), [work.ModelFolder, work.DataPath]);

    /// <inheritdoc />
    protected override IEnumerable<string> Outputs(RepresentationWork work) => [RelativeTo(RunPlan.OutputFolderOfWorkFolder(work.OutputFolder), work.OutputFolder)];

    /// <inheritdoc />
    protected override string Execute(RepresentationWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        var shards = -1;
        long tokens = 0;
        var clock = Stopwatch.StartNew();
        var summary = RepresentationRunner.Run(
            new RepresentationJob
            {
                ModelFolder = work.ModelFolder,
                DataPath = work.DataPath,
                Template = work.Template,
                OutputFolder = work.OutputFolder,
                Options = new RepresentationOptions { TopK = work.TopK, MaxBatchTokens = work.MaxBatchTokens, ShardSize = work.ShardSize },
                Device = WorkDevice.Of(services),
                DType = DTypeExtensions.Parse(work.Dtype),
            },
            new InlineProgress<RepresentationProgress>(p =>
            {
                var unit = p.ShardsDone != shards;
                shards = p.ShardsDone;
                var fraction = p.ConversationsTotal == 0 ? 0 : (double)p.ConversationsDone / p.ConversationsTotal;
                progress.Report(fraction, string.Create(CultureInfo.InvariantCulture, $"{p.ConversationsDone}/{p.ConversationsTotal} conversations, {p.ShardsDone} shards"), unit);
                if (_metrics is not null && p.TokensComputed > tokens)
                {
                    _metrics.RecordTokens(MetricsStage, p.TokensComputed - tokens);
                    tokens = p.TokensComputed;
                    _metrics.RecordTokensPerSecond(work.RunId, MetricsStage, tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-3));
                }
            }),
            cancellationToken);
        return string.Create(CultureInfo.InvariantCulture,
            $"{summary.Conversations} conversations ({summary.Dropped} dropped), {summary.Tokens} tokens, {summary.ShardsComputed} shards computed, {summary.ShardsSkipped} kept");
    }
}
