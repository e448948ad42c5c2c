namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>Where a fusion run, or one unit of its work, stands.</summary>
[GenerateSerializer]
public enum RunState
{
    /// <summary>Accepted but not started, or (for a rejected spec) never started.</summary>
    Pending,

    /// <summary>Work is under way (or waits for a reminder to restart it after a silo loss).</summary>
    Running,

    /// <summary>Finished; artifacts are on disk.</summary>
    Completed,

    /// <summary>Stopped by an error; the reason is kept and completed artifacts stay on disk.</summary>
    Failed,

    /// <summary>Stopped on request.</summary>
    Cancelled,
}
