using System.Globalization;
using FuseChat.Fusion.Merging;
using FuseChat.Grains.Interfaces.Runs;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Stage 4 (key: the run id), on any silo: coordinates the merge of the targets onto the pivot. It prepares
/// the staging folder beside the fused folder, cuts the output shards into contiguous ranges, has one
/// <see cref="IMergeRangeGrain"/> ("{run}/merge/{index}") merge each range into that folder, polls them as the
/// run grain polls its workers, and publishes (index, config, tokenizer, the final rename) once all are done.
/// Finished shards stay in the staging folder, so after a silo loss the merge continues where it stopped.
/// </summary>
public sealed class MergeStageGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<MergeWork>> state,
    ILogger<MergeStageGrain> logger,
    IGrainFactory grains)
    : StageWorkerGrain<MergeWork>(state, logger), IMergeStageGrain
{
    /// <summary>Ranges when the work does not say.</summary>
    public const int DefaultRanges = 4;

    // Written by Execute on the thread pool, read by CancelAsync on the grain's scheduler.
    private int _rangesStarted;

    /// <inheritdoc />
    protected override RunStage Stage => RunStage.Merge;

    /// <inheritdoc />
    public Task<WorkStatus> StartAsync(MergeWork work) => StartWorkAsync(work);

    /// <summary>Cancels the range grains this activation started, then the merge itself.</summary>
    async Task<WorkStatus> IStageWorkerGrain.CancelAsync()
    {
        var started = Volatile.Read(ref _rangesStarted);
        var runId = this.GetPrimaryKeyString();
        await Task.WhenAll(Enumerable.Range(0, started).Select(i => GrainFactory.GetGrain<IMergeRangeGrain>(RangeKey(runId, i)).CancelAsync()));
        return await CancelAsync();
    }

    /// <summary>The key of range <paramref name="index"/> of a run's merge.</summary>
    public static string RangeKey(string runId, int index) => string.Create(CultureInfo.InvariantCulture, $"{runId}/merge/{index}");

    /// <summary>Where the recipe's relative paths start: the fused folder's parent (run recipes use absolute paths).</summary>
    public static string RecipeDirectory(string outputFolder) => Path.GetDirectoryName(Path.GetFullPath(outputFolder)) ?? ".";

    /// <summary>Cuts <paramref name="shards"/> into at most <paramref name="ranges"/> contiguous ranges of near-equal size.</summary>
    public static IReadOnlyList<(int First, int Count)> PlanRanges(int shards, int ranges)
    {
        var n = Math.Clamp(ranges, 1, Math.Max(1, shards));
        return [.. Enumerable.Range(0, n).Select(i => (shards * i / n, shards * (i + 1) / n - shards * i / n))];
    }

    /// <inheritdoc />
    protected override string RunIdOf(MergeWork work) => work.RunId;

    /// <inheritdoc />
    protected override string? RunOutputFolderOf(MergeWork work) => RunPlan.OutputFolderOfEntry(work.OutputFolder);

    /// <inheritdoc />
    protected override IEnumerable<string> Inputs(MergeWork work) => TargetsOf(work.RecipeYaml, work.OutputFolder);

    /// <summary>The fused folder, and the staging folder whose finished shards a restarted merge keeps.</summary>
    /// <param name="work">The work.</param>
    protected override IEnumerable<string> Outputs(MergeWork work) => OutputsOf(work.OutputFolder);

    /// <summary>The recipe's targets that lie in the run's output folder (the pivot is the user's), relative to it.</summary>
    internal static IEnumerable<string> TargetsOf(string recipeYaml, string fusedFolder)
    {
        var root = RunPlan.OutputFolderOfEntry(fusedFolder);
        var recipe = MergeRecipe.Parse(recipeYaml);
        // The base model too: it lies in the output folder when the spec gave the pivot as artifact:PREFIX.
        var models = recipe.Targets.Select(t => t.Model).Concat(recipe.BaseModel is { } b ? [b] : []);
        return [.. InsideRun(root, models.Select(m => Path.Combine(RecipeDirectory(fusedFolder), m)))];
    }

    /// <summary>The fused folder and its staging folder (".fused.merging"), relative to the run's output folder.</summary>
    internal static IEnumerable<string> OutputsOf(string fusedFolder)
    {
        var root = RunPlan.OutputFolderOfEntry(fusedFolder);
        return [RelativeTo(root, fusedFolder), RelativeTo(root, CheckpointMerger.StagingFolder(fusedFolder))];
    }

    /// <inheritdoc />
    protected override string Execute(MergeWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        var recipe = MergeRecipe.Parse(work.RecipeYaml);
        var directory = RecipeDirectory(work.OutputFolder);
        var shardBytes = work.MaxShardBytes > 0 ? work.MaxShardBytes : CheckpointMerger.DefaultMaxShardBytes;
        void Log(string line) => Logger.LogInformation("Merge of run {RunId}: {Line}", work.RunId, line);
        var layout = CheckpointMerger.Prepare(recipe, directory, work.OutputFolder, shardBytes, Log);
        var ranges = PlanRanges(layout.Shards, work.Ranges > 0 ? work.Ranges : DefaultRanges);
        if (ranges.Count > 1)
        {
            // Range units on other silos start from the prepared staging folder and hand their shards back, both
            // through the artifact store (no-ops on a shared volume).
            PushOutputsNow(work, cancellationToken);
            RunRanges(work, ranges, shardBytes, progress, cancellationToken);
            PullNow(OutputsOf(work.OutputFolder).Last(), cancellationToken);
        }

        // With one range the work is done here. After ranges it is a check that costs only the markers'
        // reads, unless a range reported completion for shards that are gone (a staging folder discarded
        // and prepared again after a change): those are merged here rather than published missing.
        CheckpointMerger.MergeShards(recipe, directory, work.OutputFolder, 0, layout.Shards, shardBytes,
            new InlineProgress<MergeProgress>(p => progress.Report(
                p.TensorsTotal == 0 ? 0 : (double)p.TensorsDone / p.TensorsTotal,
                string.Create(CultureInfo.InvariantCulture, $"{p.TensorsDone}/{p.TensorsTotal} tensors"),
                unitDone: p.CurrentTensor.Length == 0)),
            cancellationToken);
        CheckpointMerger.Publish(recipe, directory, work.OutputFolder, shardBytes, overwrite: true);
        return string.Create(CultureInfo.InvariantCulture,
            $"{recipe.MergeMethod} merge of {recipe.Targets.Count} targets, {layout.Shards} shards in {ranges.Count} range(s)");
    }

    /// <summary>
    /// Starts one range grain per range and waits until all have completed, re-sending each unfinished
    /// range its start call on every poll (which restarts it if its silo was lost); fails on a failed range.
    /// </summary>
    private void RunRanges(MergeWork work, IReadOnlyList<(int First, int Count)> ranges, long shardBytes,
        WorkProgress progress, CancellationToken cancellationToken)
    {
        // The silo's factory, not the grain's GrainFactory property: Execute runs on the thread pool, outside
        // the activation, where activation services refuse to be used; plain calls into the cluster work.
        var units = ranges.Select((r, i) => new WorkerFanOut.Unit(
            string.Create(CultureInfo.InvariantCulture, $"merge range {i} (shards {r.First + 1}-{r.First + r.Count})"),
            () => grains.GetGrain<IMergeRangeGrain>(RangeKey(work.RunId, i)).StartAsync(new MergeRangeWork
            {
                RunId = work.RunId,
                RecipeYaml = work.RecipeYaml,
                OutputFolder = work.OutputFolder,
                FirstShard = r.First,
                ShardCount = r.Count,
                MaxShardBytes = shardBytes,
            }),
            r.Count)).ToList();
        Volatile.Write(ref _rangesStarted, units.Count);
        // By default every range runs at once: each is one silo's (targets + 2) tensors of memory, and ranges are
        // few. Placement can still put several on one silo; merge.parallel_ranges caps how many run together.
        var parallel = work.ParallelRanges > 0 ? Math.Min(work.ParallelRanges, units.Count) : units.Count;
        Logger.LogInformation("Merge of run {RunId}: {Ranges} ranges over the output shards, {Parallel} at a time", work.RunId, units.Count, parallel);
        WorkerFanOut.Run(units, parallel, (done, fraction) =>
            progress.Report(fraction, string.Create(CultureInfo.InvariantCulture, $"{done}/{units.Count} ranges done")), cancellationToken);
    }
}
