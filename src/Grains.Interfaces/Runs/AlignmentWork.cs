namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>Stage 2 for one source: what <see cref="ISourceAlignmentGrain"/> computes. Paths are absolute.</summary>
[GenerateSerializer]
[Alias("FuseChat.AlignmentWork")]
public sealed record AlignmentWork
{
    /// <summary>The run to notify when the work ends.</summary>
    [Id(0)] public required string RunId { get; init; }

    /// <summary>The pivot's representations.</summary>
    [Id(1)] public required string PivotRepresentations { get; init; }

    /// <summary>The source's representations.</summary>
    [Id(2)] public required string SourceRepresentations { get; init; }

    /// <summary>The pivot's model folder (its tokenizer.json).</summary>
    [Id(3)] public required string PivotTokenizer { get; init; }

    /// <summary>The source's model folder (its tokenizer.json).</summary>
    [Id(4)] public required string SourceTokenizer { get; init; }

    /// <summary>Folder of the aligned shards.</summary>
    [Id(5)] public required string OutputFolder { get; init; }

    /// <summary>DTW threads; -1 = all cores.</summary>
    [Id(6)] public required int Threads { get; init; }

    /// <summary>Shard units that may run at once across the cluster; 0 takes the default (4).</summary>
    [Id(7)] public int ParallelShards { get; init; }
}
