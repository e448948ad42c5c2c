namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>Stage 1 for one model (pivot or source). Key: "{run}/{model}".</summary>
public interface ISourceModelGrain : IStageWorkerGrain
{
    /// <summary>
    /// Records the work and starts it in the background, returning at once; a later call (the run grain
    /// polls this way) restarts the work if it is unfinished and not running, and otherwise only returns
    /// the status. The first work recorded wins.
    /// </summary>
    /// <param name="work">What to compute.</param>
    Task<WorkStatus> StartAsync(RepresentationWork work);
}
