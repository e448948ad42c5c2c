using System.Globalization;
using FuseChat.Fusion.Merging;
using FuseChat.Grains.Interfaces.Runs;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Stage 4 (key: the run id), on any silo: merges the targets onto the pivot, tensor by tensor. The fused
/// folder appears only when complete; finished shards wait in the staging folder beside it, so a merge
/// restarted after a silo loss continues where it stopped.
/// </summary>
public sealed class MergeStageGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<MergeWork>> state,
    ILogger<MergeStageGrain> logger)
    : StageWorkerGrain<MergeWork>(state, logger), IMergeStageGrain
{
    /// <inheritdoc />
    protected override RunStage Stage => RunStage.Merge;

    /// <inheritdoc />
    public Task<WorkStatus> StartAsync(MergeWork work) => StartWorkAsync(work);

    /// <inheritdoc />
    protected override string RunIdOf(MergeWork work) => work.RunId;

    /// <inheritdoc />
    protected override string Execute(MergeWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        var recipe = MergeRecipe.Parse(work.RecipeYaml);
        var directory = Path.GetDirectoryName(work.OutputFolder) ?? ".";
        CheckpointMerger.Run(recipe, directory, work.OutputFolder, overwrite: true,
            progress: new InlineProgress<MergeProgress>(p => progress.Report(
                p.TensorsTotal == 0 ? 0 : (double)p.TensorsDone / p.TensorsTotal,
                string.Create(CultureInfo.InvariantCulture, $"{p.TensorsDone}/{p.TensorsTotal} tensors"),
                unitDone: p.CurrentTensor.Length == 0)),
            cancellation: cancellationToken,
            log: line => Logger.LogInformation("Merge of run {RunId}: {Line}", work.RunId, line));
        return string.Create(CultureInfo.InvariantCulture, $"{recipe.MergeMethod} merge of {recipe.Targets.Count} targets");
    }
}
