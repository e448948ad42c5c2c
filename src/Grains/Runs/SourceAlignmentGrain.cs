using System.Globalization;
using FuseChat.Fusion.Alignment;
using FuseChat.Grains.Interfaces.Runs;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Stage 2 for one source (key "{run}/{source}"), on any silo: prepares the aligned folder, has
/// <see cref="IAlignmentShardGrain"/>s count every pivot shard's token pairs (at most
/// <see cref="AlignmentWork.ParallelShards"/> at once, anywhere in the cluster), sums the counts into the
/// vocabulary map's statistics, has them align every shard, and writes the manifest. A source with one shard is
/// aligned here; identical vocabularies skip the counting.
/// </summary>
public sealed class SourceAlignmentGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<AlignmentWork>> state,
    IGrainFactory grains,
    ILogger<SourceAlignmentGrain> logger)
    : StageWorkerGrain<AlignmentWork>(state, logger), ISourceAlignmentGrain
{
    /// <summary>Shard units at once when the work does not say.</summary>
    public const int DefaultParallelShards = 4;

    // Written by Execute on the thread pool, read by CancelAsync on the grain's scheduler.
    private volatile int[] _shardsStarted = [];

    /// <inheritdoc />
    protected override RunStage Stage => RunStage.Alignment;

    /// <inheritdoc />
    public Task<WorkStatus> StartAsync(AlignmentWork work) => StartWorkAsync(work);

    /// <summary>Cancels the shard units, then the source's alignment.</summary>
    async Task<WorkStatus> IStageWorkerGrain.CancelAsync()
    {
        var key = this.GetPrimaryKeyString();
        var units = _shardsStarted.SelectMany(shard => new[] { AlignmentPhase.Count, AlignmentPhase.Align }.Select(phase => AlignmentShardGrain.Key(key, phase, shard)));
        await Task.WhenAll(units.Select(unit => GrainFactory.GetGrain<IAlignmentShardGrain>(unit).CancelAsync()));
        return await CancelAsync();
    }

    /// <summary>The library's job for <paramref name="work"/>.</summary>
    /// <param name="work">A source's alignment.</param>
    public static AlignmentJob Job(AlignmentWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return new AlignmentJob
        {
            PivotRepresentations = work.PivotRepresentations,
            SourceRepresentations = work.SourceRepresentations,
            PivotTokenizer = work.PivotTokenizer,
            SourceTokenizer = work.SourceTokenizer,
            Output = work.OutputFolder,
            MaxDegreeOfParallelism = work.Threads,
        };
    }

    /// <inheritdoc />
    protected override string RunIdOf(AlignmentWork work) => work.RunId;

    /// <inheritdoc />
    protected override string? RunOutputFolderOf(AlignmentWork work) => OutputFolderOf(work);

    /// <inheritdoc />
    protected override IEnumerable<string> Inputs(AlignmentWork work) => InputsOf(work);

    /// <inheritdoc />
    protected override IEnumerable<string> Outputs(AlignmentWork work) => OutputsOf(work);

    /// <summary>The run's output folder of <paramref name="work"/>.</summary>
    internal static string OutputFolderOf(AlignmentWork work) => RunPlan.OutputFolderOfWorkFolder(work.OutputFolder);

    /// <summary>Both models' representation folders, relative to the run's output folder.</summary>
    internal static IEnumerable<string> InputsOf(AlignmentWork work) =>
        [
            RelativeTo(OutputFolderOf(work), work.PivotRepresentations), RelativeTo(OutputFolderOf(work), work.SourceRepresentations),
            // Of a model given as artifact:PREFIX only its tokenizer files, not its weights.
            .. InsideRun(OutputFolderOf(work), new[] { work.PivotTokenizer, work.SourceTokenizer }
                .SelectMany(folder => TokenizerFiles.Select(file => Path.Combine(folder, file)))),
        ];

    /// <summary>
    /// What a worker that needs a model's tokenizer, not its weights, pulls of it (alignment, run planning). config.json
    /// first: without it there is no model under a prefix at all, and a check of them in order should say so.
    /// </summary>
    internal static readonly string[] TokenizerFiles = ["config.json", "tokenizer.json", "tokenizer_config.json"];

    /// <summary>The aligned folder, relative to the run's output folder.</summary>
    internal static IEnumerable<string> OutputsOf(AlignmentWork work) => [RelativeTo(OutputFolderOf(work), work.OutputFolder)];

    /// <inheritdoc />
    protected override string Execute(AlignmentWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        var job = Job(work);
        var layout = AlignmentRunner.Prepare(job);
        // Shard units on other silos start from the prepared folder (its manifest), through the artifact store.
        PushOutputsNow(work, cancellationToken);
        AlignmentSummary summary;
        if (layout.ShardIndexes.Count <= 1)
        {
            summary = AlignmentRunner.Run(job, new InlineProgress<AlignmentProgress>(p =>
            {
                var within = p.Total == 0 ? 1 : (double)p.Done / p.Total;
                progress.Report((p.Pass - 1 + within) / 2, string.Create(CultureInfo.InvariantCulture, $"{(p.Pass == 1 ? "statistics" : "distributions")}: {p.Done}/{p.Total} conversations"), p.Done == p.Total);
            }), cancellationToken);
        }
        else
        {
            var key = this.GetPrimaryKeyString();
            var parallel = work.ParallelShards > 0 ? work.ParallelShards : DefaultParallelShards;
            _shardsStarted = [.. layout.ShardIndexes];
            void Phase(AlignmentPhase phase, double start, double width)
            {
                var units = layout.ShardIndexes.Select(shard => new WorkerFanOut.Unit(
                    string.Create(CultureInfo.InvariantCulture, $"alignment shard {shard} ({phase.ToString().ToLowerInvariant()})"),
                    () => grains.GetGrain<IAlignmentShardGrain>(AlignmentShardGrain.Key(key, phase, shard))
                        .StartAsync(new AlignmentShardWork { Alignment = work, Phase = phase, Shard = shard }))).ToList();
                var name = phase == AlignmentPhase.Count ? "statistics" : "distributions";
                var reported = -1;
                WorkerFanOut.Run(units, parallel, (done, fraction) =>
                {
                    progress.Report(start + width * fraction, string.Create(CultureInfo.InvariantCulture, $"{name}: {done}/{units.Count} shards"), unitDone: done != reported);
                    reported = done;
                }, cancellationToken);
            }

            if (!layout.Identity)
            {
                Phase(AlignmentPhase.Count, 0, 0.5);
                // The counts of shards counted on other silos come through the artifact store (no-op on a shared volume).
                var aligned = OutputsOf(work).First();
                PullNow(aligned, cancellationToken);
                AlignmentRunner.ReduceStatistics(job);
                PushOutputsNow(work, cancellationToken);
            }

            Phase(AlignmentPhase.Align, layout.Identity ? 0 : 0.5, layout.Identity ? 1 : 0.5);
            PullNow(OutputsOf(work).First(), cancellationToken);
            summary = AlignmentRunner.Finish(job);
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{summary.Conversations} conversations, {summary.Positions} positions ({summary.OneHotPositions} one-hot, {summary.EmptyPositions} empty){(summary.Identity ? ", same vocabulary" : "")}, {layout.ShardIndexes.Count} shards");
    }
}
