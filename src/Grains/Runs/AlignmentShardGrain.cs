using System.Globalization;
using FuseChat.Fusion.Alignment;
using FuseChat.Grains.Interfaces.Runs;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Stage 2 for one source (key "{run}/{source}"), on any silo: statistics, vocabulary map and aligned shards,
/// resumed shard by shard. One grain covers all of a source's shards for now.
/// </summary>
public sealed class AlignmentShardGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<AlignmentWork>> state,
    ILogger<AlignmentShardGrain> logger)
    : StageWorkerGrain<AlignmentWork>(state, logger), IAlignmentShardGrain
{
    /// <inheritdoc />
    protected override RunStage Stage => RunStage.Alignment;

    /// <inheritdoc />
    public Task<WorkStatus> StartAsync(AlignmentWork work) => StartWorkAsync(work);

    /// <inheritdoc />
    protected override string RunIdOf(AlignmentWork work) => work.RunId;

    /// <inheritdoc />
    protected override string Execute(AlignmentWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        var summary = AlignmentRunner.Run(
            new AlignmentJob
            {
                PivotRepresentations = work.PivotRepresentations,
                SourceRepresentations = work.SourceRepresentations,
                PivotTokenizer = work.PivotTokenizer,
                SourceTokenizer = work.SourceTokenizer,
                Output = work.OutputFolder,
                MaxDegreeOfParallelism = work.Threads,
            },
            new InlineProgress<AlignmentProgress>(p =>
            {
                var within = p.Total == 0 ? 1 : (double)p.Done / p.Total;
                var pass = p.Pass == 1 ? "statistics" : "distributions";
                progress.Report((p.Pass - 1 + within) / 2, string.Create(CultureInfo.InvariantCulture, $"{pass}: {p.Done}/{p.Total} conversations"), p.Done == p.Total);
            }),
            cancellationToken);
        return string.Create(CultureInfo.InvariantCulture,
            $"{summary.Conversations} conversations, {summary.Positions} positions ({summary.OneHotPositions} one-hot, {summary.EmptyPositions} empty){(summary.Identity ? ", same vocabulary" : "")}");
    }
}
