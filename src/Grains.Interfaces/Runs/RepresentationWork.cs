namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>Stage 1 for one model: what <see cref="ISourceModelGrain"/> computes. Paths are absolute.</summary>
[GenerateSerializer]
[Alias("FuseChat.RepresentationWork")]
public sealed record RepresentationWork
{
    /// <summary>The run to notify when the work ends.</summary>
    [Id(0)] public required string RunId { get; init; }

    /// <summary>The model's Hugging Face folder.</summary>
    [Id(1)] public required string ModelFolder { get; init; }

    /// <summary>Training chats (JSONL).</summary>
    [Id(2)] public required string DataPath { get; init; }

    /// <summary>The pivot's chat template name.</summary>
    [Id(3)] public required string Template { get; init; }

    /// <summary>Folder of the representation shards.</summary>
    [Id(4)] public required string OutputFolder { get; init; }

    /// <summary>Logits kept per position.</summary>
    [Id(5)] public required int TopK { get; init; }

    /// <summary>Most tokens per forward pass.</summary>
    [Id(6)] public required int MaxBatchTokens { get; init; }

    /// <summary>Conversations per shard (the unit of resumption).</summary>
    [Id(7)] public required int ShardSize { get; init; }

    /// <summary>Weight dtype (f32, bf16, f16).</summary>
    [Id(8)] public required string Dtype { get; init; }
}
