using System.Globalization;
using FuseChat.Fusion.Alignment;
using FuseChat.Fusion.Representations;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// One shard of a source's alignment in one phase (key "{run}/{source}/{phase}/{shard}"), on any silo: counts
/// the shard's token pairs or aligns it. The library skips a unit already on disk, so a restart is cheap. An aligned
/// shard feeds the tokens and tokens/s series of <see cref="FuseChatMetrics"/> (stage "alignment": pivot positions
/// aligned) when the silo has it.
/// </summary>
public sealed class AlignmentShardGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<AlignmentShardWork>> state,
    IServiceProvider services,
    ILogger<AlignmentShardGrain> logger)
    : StageWorkerGrain<AlignmentShardWork>(state, logger), IAlignmentShardGrain
{
    private const string MetricsStage = "alignment";
    private readonly FuseChatMetrics? _metrics = services.GetService<FuseChatMetrics>();

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

    /// <summary>Both representation folders, and for aligning the prepared manifest, the summed counts and the shard's counted paths.</summary>
    protected override IEnumerable<string> Inputs(AlignmentShardWork work)
    {
        var root = SourceAlignmentGrain.OutputFolderOf(work.Alignment);
        var inputs = SourceAlignmentGrain.InputsOf(work.Alignment).ToList();
        if (work.Phase == AlignmentPhase.Align)
        {
            inputs.Add(RelativeTo(root, Path.Combine(work.Alignment.OutputFolder, RepresentationManifest.FileName)));
            inputs.Add(RelativeTo(root, Path.Combine(work.Alignment.OutputFolder, AlignmentRunner.StatisticsFileName)));
            // The counting pass's DTW paths for this shard, so that it need not run again (absent: recomputed).
            inputs.Add(RelativeTo(root, AlignmentRunner.PathsPath(work.Alignment.OutputFolder, work.Shard)));
        }

        return inputs;
    }

    /// <summary>
    /// Only this unit's own files: the units of a source share its aligned folder, and pushing all of it from each
    /// would upload the same files many times over.
    /// </summary>
    protected override IEnumerable<string> Outputs(AlignmentShardWork work)
    {
        var root = SourceAlignmentGrain.OutputFolderOf(work.Alignment);
        if (work.Phase == AlignmentPhase.Count)
        {
            yield return RelativeTo(root, AlignmentRunner.PathsPath(work.Alignment.OutputFolder, work.Shard));
            yield return RelativeTo(root, AlignmentRunner.PartPath(work.Alignment.OutputFolder, work.Shard));
            yield break;
        }

        // Read lazily: on a silo that never saw the run, the pivot's manifest arrives with the inputs pulled first.
        var file = RepresentationManifest.Load(Path.Combine(work.Alignment.PivotRepresentations, RepresentationManifest.FileName))
            .Shards.First(s => s.Index == work.Shard).File;
        var shard = Path.Combine(work.Alignment.OutputFolder, file);
        yield return RelativeTo(root, shard);
        yield return RelativeTo(root, shard + AlignmentRunner.DoneSuffix);
    }

    /// <inheritdoc />
    protected override string Execute(AlignmentShardWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        var job = SourceAlignmentGrain.Job(work.Alignment);
        if (work.Phase == AlignmentPhase.Count)
        {
            AlignmentRunner.CountShard(job, work.Shard, cancellationToken);
            return string.Create(CultureInfo.InvariantCulture, $"shard {work.Shard} counted");
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (record, computed) = AlignmentRunner.AlignShard(job, work.Shard, cancellationToken);
        if (computed && _metrics is not null)
        {
            _metrics.RecordTokens(MetricsStage, record.Positions);
            _metrics.RecordTokensPerSecond(work.Alignment.RunId, MetricsStage, record.Positions / Math.Max(clock.Elapsed.TotalSeconds, 1e-3));
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"shard {work.Shard} {(computed ? "aligned" : "was aligned already")}: {record.Positions} positions ({record.OneHotPositions} one-hot, {record.EmptyPositions} empty)");
    }
}
