using System.Globalization;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Training;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Placement;
using FuseChat.Torch;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Stage 3 for one source (key "{run}/{source}"), on GPU silos: fine-tunes the pivot with the fusion loss,
/// resuming from the latest checkpoint ("{target}.checkpoints") after a restart.
/// </summary>
[RequiresGpu]
public sealed class PairwiseFusionGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<PairwiseFusionWork>> state,
    ILogger<PairwiseFusionGrain> logger)
    : StageWorkerGrain<PairwiseFusionWork>(state, logger), IPairwiseFusionGrain
{
    /// <inheritdoc />
    protected override RunStage Stage => RunStage.Fusion;

    /// <inheritdoc />
    public Task<WorkStatus> StartAsync(PairwiseFusionWork work) => StartWorkAsync(work);

    /// <inheritdoc />
    protected override string RunIdOf(PairwiseFusionWork work) => work.RunId;

    /// <inheritdoc />
    protected override string Execute(PairwiseFusionWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        // The target is published atomically as the last step: if it exists, a previous attempt finished
        // and only its status write was lost.
        if (File.Exists(Path.Combine(work.OutputFolder, ModelConfig.FileName))) return "target already trained";
        var options = new FusionTrainerOptions
        {
            LearningRate = work.LearningRate,
            Epochs = work.Epochs,
            GradientAccumulationSteps = work.Accumulation,
            Lambda = work.Lambda,
            WarmupRatio = work.Warmup,
            CheckpointEvery = work.CheckpointEvery,
        };
        var summary = PairwiseFusionRunner.Run(
            new PairwiseFusionJob
            {
                PivotModel = work.PivotModel,
                PivotRepresentations = work.PivotRepresentations,
                AlignedSource = work.AlignedSource,
                Output = work.OutputFolder,
                Options = options,
                Dtype = DTypeExtensions.Parse(work.Dtype),
                Device = WorkDevice.Pick(),
            },
            log =>
            {
                var checkpoint = work.CheckpointEvery > 0 && log.Step % work.CheckpointEvery == 0;
                var fraction = log.TotalSteps == 0 ? 0 : (double)log.Step / log.TotalSteps;
                progress.Report(fraction, string.Create(CultureInfo.InvariantCulture, $"step {log.Step}/{log.TotalSteps}, loss {log.Loss:F4}"), checkpoint);
            },
            cancellationToken);
        return string.Create(CultureInfo.InvariantCulture,
            $"{summary.Steps} steps, MinCE chose the source for {summary.SourceSelected}/{summary.Conversations} conversations{(summary.ResumedFrom is null ? "" : ", resumed from " + Path.GetFileName(summary.ResumedFrom))}");
    }
}
