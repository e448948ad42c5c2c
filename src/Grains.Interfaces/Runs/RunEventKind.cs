namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>What a <see cref="RunEvent"/> records.</summary>
[GenerateSerializer]
public enum RunEventKind
{
    /// <summary>The spec was accepted and the run started.</summary>
    RunStarted,

    /// <summary>The first unit of work of a stage started.</summary>
    StageStarted,

    /// <summary>Every unit of work of a stage completed.</summary>
    StageCompleted,

    /// <summary>A unit of work failed.</summary>
    Error,

    /// <summary>The run completed.</summary>
    RunCompleted,

    /// <summary>The run failed.</summary>
    RunFailed,

    /// <summary>The run was cancelled.</summary>
    RunCancelled,

    /// <summary>The run cannot go on for now (e.g. no GPU silo is active); it retries on every tick.</summary>
    Waiting,

    /// <summary>What held the run up is gone; it goes on.</summary>
    Resumed,

    /// <summary>The ended run's work artifacts were deleted from the artifact store (FuseChat:Storage:ArtifactRetention); its outputs stay.</summary>
    ArtifactsDeleted,
}
