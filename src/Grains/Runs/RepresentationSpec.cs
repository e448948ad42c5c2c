namespace FuseChat.Grains.Runs;

/// <summary>Stage 1 settings (YAML section <c>representation</c>).</summary>
public sealed record RepresentationSpec
{
    /// <summary><c>top_k</c>: logits kept per position (paper: 10).</summary>
    public int TopK { get; init; } = 10;

    /// <summary><c>max_batch_tokens</c>: most tokens per forward pass.</summary>
    public int MaxBatchTokens { get; init; } = 4096;

    /// <summary><c>shard_size</c>: conversations per shard, the unit of resumption.</summary>
    public int ShardSize { get; init; } = 1000;

    /// <summary><c>dtype</c>: weight dtype (f32, bf16, f16).</summary>
    public string Dtype { get; init; } = "f32";
}
