namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>Stage 2 for one source. Key: "{run}/{source}". One grain per source for now; splitting a source's alignment into per-shard grains (parallel over CPU silos) is a later step.</summary>
public interface IAlignmentShardGrain : IStageWorkerGrain
{
    /// <summary>
    /// Records the work and starts it in the background, returning at once; a later call (the run grain
    /// polls this way) restarts the work if it is unfinished and not running, and otherwise only returns
    /// the status. The first work recorded wins.
    /// </summary>
    /// <param name="work">What to compute.</param>
    Task<WorkStatus> StartAsync(AlignmentWork work);
}
