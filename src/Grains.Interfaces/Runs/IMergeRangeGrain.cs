namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>
/// Stage 4, one range of output shards merged into the merge's staging folder; <see cref="IMergeStageGrain"/>
/// plans the ranges, starts these grains and publishes the model once all are done. Key: "{run}/merge/{index}".
/// </summary>
public interface IMergeRangeGrain : IStageWorkerGrain
{
    /// <summary>
    /// Records the work and starts it in the background, returning at once; a later call restarts the
    /// work if it is unfinished and not running, and otherwise only returns the status. The first work
    /// recorded wins.
    /// </summary>
    /// <param name="work">What to compute.</param>
    Task<WorkStatus> StartAsync(MergeRangeWork work);
}
