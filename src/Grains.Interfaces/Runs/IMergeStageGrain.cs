namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>
/// Stage 4, the merge of the targets. Key: the run id. It coordinates: prepares the staging folder, splits
/// the output shards into ranges merged by <see cref="IMergeRangeGrain"/>s, waits for them and publishes.
/// </summary>
public interface IMergeStageGrain : IStageWorkerGrain
{
    /// <summary>
    /// Records the work and starts it in the background, returning at once; a later call (the run grain
    /// polls this way) restarts the work if it is unfinished and not running, and otherwise only returns
    /// the status. The first work recorded wins.
    /// </summary>
    /// <param name="work">What to compute.</param>
    Task<WorkStatus> StartAsync(MergeWork work);
}
