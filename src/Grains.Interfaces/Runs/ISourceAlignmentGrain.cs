namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>
/// Stage 2 for one source. Key: "{run}/{source}". Prepares the aligned folder, has <see cref="IAlignmentShardGrain"/>s
/// count every shard's token pairs, sums the counts, has them align every shard, then writes the manifest.
/// </summary>
public interface ISourceAlignmentGrain : IStageWorkerGrain
{
    /// <summary>
    /// Records the work and starts it in the background, returning at once; a later call (the run grain
    /// polls this way) restarts the work if it is unfinished and not running, and otherwise only returns
    /// the status. The first work recorded wins.
    /// </summary>
    /// <param name="work">What to compute.</param>
    Task<WorkStatus> StartAsync(AlignmentWork work);
}
