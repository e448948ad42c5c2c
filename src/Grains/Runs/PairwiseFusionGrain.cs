using System.Globalization;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Training;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Placement;
using FuseChat.Grains.Storage;
using FuseChat.Grains.Telemetry;
using FuseChat.Torch;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Stage 3 for one source (key "{run}/{source}"), on GPU silos: fine-tunes the pivot with the fusion loss,
/// resuming from the latest checkpoint ("{target}.checkpoints") after a restart. Feeds the training series
/// (tokens, tokens/s, loss, checkpoints) of <see cref="FuseChatMetrics"/> when the silo has it.
/// </summary>
[RequiresGpu]
public sealed class PairwiseFusionGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<PairwiseFusionWork>> state,
    IServiceProvider services,
    ILogger<PairwiseFusionGrain> logger)
    : StageWorkerGrain<PairwiseFusionWork>(state, logger), IPairwiseFusionGrain
{
    private const string MetricsStage = "fusion";
    private readonly FuseChatMetrics? _metrics = services.GetService<FuseChatMetrics>();

    /// <inheritdoc />
    protected override RunStage Stage => RunStage.Fusion;

    /// <inheritdoc />
    public Task<WorkStatus> StartAsync(PairwiseFusionWork work) => StartWorkAsync(work);

    /// <inheritdoc />
    protected override string RunIdOf(PairwiseFusionWork work) => work.RunId;

    /// <inheritdoc />
    protected override string? RunOutputFolderOf(PairwiseFusionWork work) => RunPlan.OutputFolderOfWorkFolder(work.OutputFolder);

    /// <inheritdoc />
    protected override IEnumerable<string> Inputs(PairwiseFusionWork work)
    {
        var root = RunPlan.OutputFolderOfWorkFolder(work.OutputFolder);
        return [RelativeTo(root, work.PivotRepresentations), RelativeTo(root, work.AlignedSource), .. InsideRun(root, [work.PivotModel])];
    }

    /// <summary>The target and its checkpoints (the runner's "{target}.checkpoints"), from which a restarted worker resumes.</summary>
    /// <param name="work">The work.</param>
    protected override IEnumerable<string> Outputs(PairwiseFusionWork work)
    {
        var target = RelativeTo(RunPlan.OutputFolderOfWorkFolder(work.OutputFolder), work.OutputFolder);
        return [target, target + RunArtifactMirror.CheckpointsSuffix];
    }

    /// <inheritdoc />
    protected override string Execute(PairwiseFusionWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        // The target is published atomically as the last step: if it exists, a previous attempt finished
        // and only its status write was lost.
        if (File.Exists(Path.Combine(work.OutputFolder, ModelConfig.FileName))) return "target already trained";
        var key = this.GetPrimaryKeyString();
        var source = key[(key.IndexOf('/', StringComparison.Ordinal) + 1)..];
        var device = WorkDevice.Of(services);
        var options = new FusionTrainerOptions
        {
            LearningRate = work.LearningRate,
            Epochs = work.Epochs,
            GradientAccumulationSteps = work.Accumulation,
            Lambda = work.Lambda,
            WarmupRatio = work.Warmup,
            CheckpointEvery = work.CheckpointEvery,
            GradientCheckpointing = work.GradientCheckpointing,
            OptimizerStateDevice = FusionTrainerOptions.OffloadTarget(work.OptimizerOffload, device),
        };
        // Written by the step log and read by the checkpoint callback, both on the training thread.
        double fraction = 0;
        var detail = "";
        var summary = PairwiseFusionRunner.Run(
            new PairwiseFusionJob
            {
                PivotModel = work.PivotModel,
                PivotRepresentations = work.PivotRepresentations,
                AlignedSource = work.AlignedSource,
                Output = work.OutputFolder,
                Options = options,
                Dtype = DTypeExtensions.Parse(work.Dtype),
                Device = device,
            },
            log =>
            {
                fraction = log.TotalSteps == 0 ? 0 : (double)log.Step / log.TotalSteps;
                detail = string.Create(CultureInfo.InvariantCulture, $"step {log.Step}/{log.TotalSteps}, loss {log.Loss:F4}");
                progress.Report(fraction, detail);
                Logger.LogDebug("Fusion {WorkerKey} step {Step}/{TotalSteps} loss {Loss} ({TokensPerSecond} tokens/s)", key, log.Step, log.TotalSteps, log.Loss, log.TokensPerSecond);
                _metrics?.RecordTokens(MetricsStage, log.Tokens);
                _metrics?.RecordTokensPerSecond(work.RunId, MetricsStage, log.TokensPerSecond);
                _metrics?.RecordTrainingLoss(work.RunId, source, log.Loss);
            },
            cancellationToken,
            checkpoint =>
            {
                // The unit is done when the checkpoint is complete on disk, not when its step ends: the step's log comes
                // before the checkpoint is written, and a push started then would find it missing or half-written, so
                // that without a shared disk a lost silo would resume from an older checkpoint than it had.
                progress.Report(fraction, detail, unitDone: true);
                Logger.LogInformation("Fusion {WorkerKey} wrote checkpoint at step {Step} ({Bytes} bytes in {Seconds:F2} s)", key, checkpoint.Step, checkpoint.Bytes, checkpoint.Duration.TotalSeconds);
                _metrics?.RecordCheckpoint(checkpoint.Duration, checkpoint.Bytes, MetricsStage);
            });
        return string.Create(CultureInfo.InvariantCulture,
            $"{summary.Steps} steps, MinCE chose the source for {summary.SourceSelected}/{summary.Conversations} conversations{(summary.ResumedFrom is null ? "" : $", resumed at step {summary.ResumedAtStep}")}");
    }
}
