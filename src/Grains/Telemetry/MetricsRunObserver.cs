using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Runs;

namespace FuseChat.Grains.Telemetry;

/// <summary>Feeds run events into <see cref="FuseChatMetrics"/>: runs by state and stage progress at stage boundaries.</summary>
public sealed class MetricsRunObserver(FuseChatMetrics metrics) : IFusionRunObserver
{
    /// <inheritdoc/>
    public void OnRunEvent(string runId, RunEvent runEvent)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        switch (runEvent.Kind)
        {
            case RunEventKind.RunStarted:
                metrics.SetRunState(runId, "running");
                break;
            case RunEventKind.StageStarted when runEvent.Stage is { } stage:
                metrics.RecordStageProgress(runId, StageName(stage), 0);
                break;
            case RunEventKind.StageCompleted when runEvent.Stage is { } stage:
                metrics.RecordStageProgress(runId, StageName(stage), 1);
                break;
            case RunEventKind.RunCompleted:
                metrics.SetRunState(runId, "completed");
                break;
            case RunEventKind.RunFailed:
                metrics.SetRunState(runId, "failed");
                break;
            case RunEventKind.RunCancelled:
                metrics.SetRunState(runId, "cancelled");
                break;
        }
    }

    /// <summary>The stage label used in metrics (lowercase).</summary>
    public static string StageName(RunStage stage) => stage.ToString().ToLowerInvariant();
}
