using FuseChat.Grains.Interfaces.Runs;

namespace FuseChat.Grains.Runs;

/// <summary>
/// What the run grain persists (storage "fusechat"): the spec as given (the plan is derived from it again on
/// every activation), the run's state, its events, and the last known status of each worker.
/// </summary>
[GenerateSerializer]
public sealed class FusionRunState
{
    /// <summary>The accepted spec, YAML; null before a start.</summary>
    [Id(0)] public string? SpecText { get; set; }

    /// <summary>The folder the spec's relative paths are relative to.</summary>
    [Id(1)] public string? SpecDirectory { get; set; }

    /// <summary>The run's state.</summary>
    [Id(2)] public RunState State { get; set; }

    /// <summary>Why the run failed.</summary>
    [Id(3)] public string? FailureReason { get; set; }

    /// <summary>The event history, in sequence order.</summary>
    [Id(4)] public List<RunEvent> Events { get; set; } = [];

    /// <summary>Last known status per worker key.</summary>
    [Id(5)] public Dictionary<string, WorkerProgress> Workers { get; set; } = [];

    /// <summary>Stages whose start was recorded as an event.</summary>
    [Id(6)] public List<RunStage> StartedStages { get; set; } = [];

    /// <summary>Stages whose completion was recorded as an event.</summary>
    [Id(7)] public List<RunStage> CompletedStages { get; set; } = [];

    /// <summary>The evaluation report, JSON, once completed.</summary>
    [Id(8)] public string? ReportJson { get; set; }

    /// <summary>The run's output folder.</summary>
    [Id(9)] public string? OutputFolder { get; set; }

    /// <summary>Why the run cannot go on for now (shown in the status), or null.</summary>
    [Id(10)] public string? Waiting { get; set; }

    /// <summary>
    /// What the artifact store must keep of the ended run (its outputs, relative to the output folder), recorded from
    /// the plan when the run ended; null while running, or when the plan was unknown (then nothing is deleted).
    /// </summary>
    [Id(11)] public List<string>? KeptArtifacts { get; set; }

    /// <summary>Whether the ended run's work artifacts are gone from the artifact store.</summary>
    [Id(12)] public bool WorkArtifactsDeleted { get; set; }

    /// <summary>Work artifacts deleted so far, over every cleanup pass.</summary>
    [Id(13)] public long DeletedArtifactFiles { get; set; }

    /// <summary>Their total size in bytes.</summary>
    [Id(14)] public long DeletedArtifactBytes { get; set; }
}
