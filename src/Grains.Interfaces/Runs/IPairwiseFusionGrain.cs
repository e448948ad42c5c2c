namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>Stage 3 for one source, placed on GPU silos. Key: "{run}/{source}".</summary>
public interface IPairwiseFusionGrain : IStageWorkerGrain
{
    /// <summary>
    /// Records the work and starts it in the background, returning at once; a later call (the run grain
    /// polls this way) restarts the work if it is unfinished and not running, and otherwise only returns
    /// the status. The first work recorded wins.
    /// </summary>
    /// <param name="work">What to compute.</param>
    Task<WorkStatus> StartAsync(PairwiseFusionWork work);
}
