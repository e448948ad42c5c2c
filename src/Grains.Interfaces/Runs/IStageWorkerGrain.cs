namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>
/// What every worker grain of a run offers besides its start call. A start call only records the work,
/// registers a reminder and starts a background task; it returns at once.
/// </summary>
public interface IStageWorkerGrain : IGrainWithStringKey
{
    /// <summary>The work's status (Pending when it was never started).</summary>
    Task<WorkStatus> GetStatusAsync();

    /// <summary>Stops the work (completed artifacts stay on disk) and marks it Cancelled; no-op when final.</summary>
    Task<WorkStatus> CancelAsync();
}
