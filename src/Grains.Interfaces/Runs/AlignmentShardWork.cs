namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>One shard of a source's alignment, in one phase: what <see cref="IAlignmentShardGrain"/> computes.</summary>
[GenerateSerializer]
[Alias("FuseChat.AlignmentShardWork")]
public sealed record AlignmentShardWork
{
    /// <summary>The source's whole alignment (paths, threads).</summary>
    [Id(0)] public required AlignmentWork Alignment { get; init; }

    /// <summary>Counting or aligning.</summary>
    [Id(1)] public required AlignmentPhase Phase { get; init; }

    /// <summary>The pivot shard's number.</summary>
    [Id(2)] public required int Shard { get; init; }
}
