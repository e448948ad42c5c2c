using System.Globalization;
using FuseChat.Fusion.Alignment;
using FuseChat.Grains.Interfaces.Runs;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// One shard of a source's alignment in one phase (key "{run}/{source}/{phase}/{shard}"), on any silo: counts
/// the shard's token pairs or aligns it. The library skips a unit already on disk, so a restart is cheap.
/// </summary>
public sealed class AlignmentShardGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<AlignmentShardWork>> state,
    ILogger<AlignmentShardGrain> logger)
    : StageWorkerGrain<AlignmentShardWork>(state, logger), IAlignmentShardGrain
{
    /// <inheritdoc />
    protected override RunStage Stage => RunStage.Alignment;

    /// <inheritdoc />
    public Task<WorkStatus> StartAsync(AlignmentShardWork work) => StartWorkAsync(work);

    /// <summary>The key of one unit of a source's alignment.</summary>
    /// <param name="sourceKey">The source alignment's key, "{run}/{source}".</param>
    /// <param name="phase">Counting or aligning.</param>
    /// <param name="shard">The pivot shard.</param>
    public static string Key(string sourceKey, AlignmentPhase phase, int shard) =>
        string.Create(CultureInfo.InvariantCulture, $"{sourceKey}/{phase.ToString().ToLowerInvariant()}/{shard}");

    /// <inheritdoc />
    protected override string RunIdOf(AlignmentShardWork work) => work.Alignment.RunId;

    /// <inheritdoc />
    protected override string? RunOutputFolderOf(AlignmentShardWork work) => SourceAlignmentGrain.OutputFolderOf(work.Alignment);

    /// <inheritdoc />
    protected override IEnumerable<string> Inputs(AlignmentShardWork work) => SourceAlignmentGrain.InputsOf(work.Alignment);

    /// <inheritdoc />
    protected override IEnumerable<string> Outputs(AlignmentShardWork work) => SourceAlignmentGrain.OutputsOf(work.Alignment);

    /// <inheritdoc />
    protected override string Execute(AlignmentShardWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        var job = SourceAlignmentGrain.Job(work.Alignment);
        if (work.Phase == AlignmentPhase.Count)
        {
            AlignmentRunner.CountShard(job, work.Shard, cancellationToken);
            return string.Create(CultureInfo.InvariantCulture, $"shard {work.Shard} counted");
        }

        var (record, computed) = AlignmentRunner.AlignShard(job, work.Shard, cancellationToken);
        return string.Create(CultureInfo.InvariantCulture,
            $"shard {work.Shard} {(computed ? "aligned" : "was aligned already")}: {record.Positions} positions ({record.OneHotPositions} one-hot, {record.EmptyPositions} empty)");
    }
}
