using System.Globalization;
using FuseChat.Fusion.Merging;
using FuseChat.Grains.Interfaces.Runs;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Stage 4, one range of output shards (key "{run}/merge/{index}"), on any silo: merges them into the
/// staging folder the <see cref="MergeStageGrain"/> prepared. Finished shards are kept there, so after a
/// silo loss the reminder restarts the range and only unfinished shards are merged again.
/// </summary>
public sealed class MergeRangeGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<MergeRangeWork>> state,
    ILogger<MergeRangeGrain> logger)
    : StageWorkerGrain<MergeRangeWork>(state, logger), IMergeRangeGrain
{
    /// <inheritdoc />
    protected override RunStage Stage => RunStage.Merge;

    /// <inheritdoc />
    public Task<WorkStatus> StartAsync(MergeRangeWork work) => StartWorkAsync(work);

    /// <inheritdoc />
    protected override string RunIdOf(MergeRangeWork work) => work.RunId;

    /// <inheritdoc />
    protected override string? RunOutputFolderOf(MergeRangeWork work) => RunPlan.OutputFolderOfEntry(work.OutputFolder);

    /// <inheritdoc />
    protected override IEnumerable<string> Inputs(MergeRangeWork work) => MergeStageGrain.TargetsOf(work.RecipeYaml, work.OutputFolder);

    /// <summary>The staging folder its shards go to (and the fused folder, which it does not write).</summary>
    /// <param name="work">The work.</param>
    protected override IEnumerable<string> Outputs(MergeRangeWork work) => MergeStageGrain.OutputsOf(work.OutputFolder).Skip(1);

    /// <inheritdoc />
    protected override string Execute(MergeRangeWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        var recipe = MergeRecipe.Parse(work.RecipeYaml);
        CheckpointMerger.MergeShards(recipe, MergeStageGrain.RecipeDirectory(work.OutputFolder), work.OutputFolder,
            work.FirstShard, work.ShardCount, work.MaxShardBytes,
            new InlineProgress<MergeProgress>(p => progress.Report(
                p.TensorsTotal == 0 ? 0 : (double)p.TensorsDone / p.TensorsTotal,
                string.Create(CultureInfo.InvariantCulture, $"shards {p.ShardsDone}/{p.ShardsTotal}, {p.TensorsDone}/{p.TensorsTotal} tensors"),
                unitDone: p.CurrentTensor.Length == 0)),
            cancellationToken);
        return string.Create(CultureInfo.InvariantCulture, $"shards {work.FirstShard + 1}-{work.FirstShard + work.ShardCount}");
    }
}
