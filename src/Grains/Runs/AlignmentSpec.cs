namespace FuseChat.Grains.Runs;

/// <summary>Stage 2 settings (YAML section <c>alignment</c>).</summary>
public sealed record AlignmentSpec
{
    /// <summary><c>threads</c>: DTW threads per source; -1 = all cores.</summary>
    public int Threads { get; init; } = -1;

    /// <summary><c>parallel_shards</c>: a source's shard units (counting, aligning) that run at once across the cluster.</summary>
    public int ParallelShards { get; init; } = SourceAlignmentGrain.DefaultParallelShards;
}
