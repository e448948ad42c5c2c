using FuseChat.Fusion.Representations;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// The completion record of one aligned shard ("{shard file}.done.json" next to it), written after the shard
/// itself: the manifest entry plus the shard's counts, so shards aligned by different workers can be
/// assembled into one manifest and one summary.
/// </summary>
public sealed record AlignedShardRecord
{
    /// <summary>The manifest entry of the aligned shard.</summary>
    public required RepresentationShardInfo Shard { get; init; }

    /// <summary>Conversations the source had dropped (trained on the pivot's own targets).</summary>
    public long WithoutSource { get; init; }

    /// <summary>Trained pivot positions written.</summary>
    public long Positions { get; init; }

    /// <summary>Positions that fell back to a one-hot target.</summary>
    public long OneHotPositions { get; init; }

    /// <summary>Positions with no usable source entry.</summary>
    public long EmptyPositions { get; init; }
}
