namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>
/// One unit of a source's alignment: counting the token pairs of one pivot shard (pass 1) or aligning one shard
/// (pass 2). Key: "{run}/{source}/{phase}/{shard}", e.g. "run-1/qwen/align/3". Started by
/// <see cref="ISourceAlignmentGrain"/>, which spreads a source's shards over the cluster.
/// </summary>
public interface IAlignmentShardGrain : IStageWorkerGrain
{
    /// <summary>
    /// Records the work and starts it in the background, returning at once; a later call restarts the work if it
    /// is unfinished and not running, and otherwise only returns the status. The first work recorded wins.
    /// </summary>
    /// <param name="work">What to compute.</param>
    Task<WorkStatus> StartAsync(AlignmentShardWork work);
}
