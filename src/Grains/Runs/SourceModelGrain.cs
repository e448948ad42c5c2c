using System.Globalization;
using FuseChat.Fusion.Representations;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Placement;
using FuseChat.Torch;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>Stage 1 for one model (key "{run}/{model}"): representation shards, resumed shard by shard.</summary>
[RequiresGpu]
public sealed class SourceModelGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<RepresentationWork>> state,
    ILogger<SourceModelGrain> logger)
    : StageWorkerGrain<RepresentationWork>(state, logger), ISourceModelGrain
{
    /// <inheritdoc />
    protected override RunStage Stage => RunStage.Representations;

    /// <inheritdoc />
    public Task<WorkStatus> StartAsync(RepresentationWork work) => StartWorkAsync(work);

    /// <inheritdoc />
    protected override string RunIdOf(RepresentationWork work) => work.RunId;

    /// <inheritdoc />
    protected override string Execute(RepresentationWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        var shards = -1;
        var summary = RepresentationRunner.Run(
            new RepresentationJob
            {
                ModelFolder = work.ModelFolder,
                DataPath = work.DataPath,
                Template = work.Template,
                OutputFolder = work.OutputFolder,
                Options = new RepresentationOptions { TopK = work.TopK, MaxBatchTokens = work.MaxBatchTokens, ShardSize = work.ShardSize },
                Device = WorkDevice.Pick(),
                DType = DTypeExtensions.Parse(work.Dtype),
            },
            new InlineProgress<RepresentationProgress>(p =>
            {
                var unit = p.ShardsDone != shards;
                shards = p.ShardsDone;
                var fraction = p.ConversationsTotal == 0 ? 0 : (double)p.ConversationsDone / p.ConversationsTotal;
                progress.Report(fraction, string.Create(CultureInfo.InvariantCulture, $"{p.ConversationsDone}/{p.ConversationsTotal} conversations, {p.ShardsDone} shards"), unit);
            }),
            cancellationToken);
        return string.Create(CultureInfo.InvariantCulture,
            $"{summary.Conversations} conversations ({summary.Dropped} dropped), {summary.Tokens} tokens, {summary.ShardsComputed} shards computed, {summary.ShardsSkipped} kept");
    }
}
