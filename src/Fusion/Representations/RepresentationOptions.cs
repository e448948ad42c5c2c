namespace FuseChat.Fusion.Representations;

/// <summary>Settings of a Stage 1 representation pass.</summary>
public sealed record RepresentationOptions
{
    /// <summary>Logits kept per trained position (the paper: 10).</summary>
    public int TopK { get; init; } = 10;

    /// <summary>
    /// Most tokens (batch size times the longest sequence of the batch, padding included) in one forward
    /// pass; a single conversation longer than this still runs, alone.
    /// </summary>
    public int MaxBatchTokens { get; init; } = 4096;

    /// <summary>Conversations of the data file per shard (dropped ones included, so shard ranges are fixed).</summary>
    public int ShardSize { get; init; } = 1000;

    /// <summary>Buffer compression of the shards.</summary>
    public RepresentationCompression Compression { get; init; } = RepresentationCompression.Zstd;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (TopK < 1) throw new ArgumentException($"top-k must be positive, got {TopK}");
        if (MaxBatchTokens < 1) throw new ArgumentException($"max batch tokens must be positive, got {MaxBatchTokens}");
        if (ShardSize < 1) throw new ArgumentException($"shard size must be positive, got {ShardSize}");
    }
}
