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
}
