namespace FuseChat.Fusion.Alignment;

/// <summary>What <see cref="AlignmentRunner"/> aligns: one source's representations onto the pivot's.</summary>
public sealed record AlignmentJob
{
    /// <summary>Folder of the pivot's representations (fusechat represent).</summary>
    public required string PivotRepresentations { get; init; }
    /// <summary>Folder of the source's representations, made from the same data and template.</summary>
    public required string SourceRepresentations { get; init; }
    /// <summary>The pivot's tokenizer (tokenizer.json or its model folder).</summary>
    public required string PivotTokenizer { get; init; }
    /// <summary>The source's tokenizer.</summary>
    public required string SourceTokenizer { get; init; }
    /// <summary>Where the aligned shards (pivot vocabulary, pivot positions) go.</summary>
    public required string Output { get; init; }
    /// <summary>Threads for DTW; -1 = all cores.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;
}
