namespace FuseChat.Fusion.Representations;

/// <summary>One completed shard as the manifest lists it.</summary>
public sealed record RepresentationShardInfo
{
    /// <summary>0-based shard number.</summary>
    public required int Index { get; init; }

    /// <summary>File name inside the output folder, e.g. shard-00000.arrow.</summary>
    public required string File { get; init; }

    /// <summary>Index in the data file of the shard's first conversation.</summary>
    public required long FirstConversation { get; init; }

    /// <summary>Conversations of the data file the shard covers (written and dropped).</summary>
    public required int Conversations { get; init; }

    /// <summary>Conversations written (rows of the file).</summary>
    public required int Written { get; init; }

    /// <summary>Conversations dropped for having no trained position.</summary>
    public required int Dropped { get; init; }

    /// <summary>Conversations truncated to the model's longest sequence.</summary>
    public required int Truncated { get; init; }

    /// <summary>Tokens stored (input_ids of the written conversations).</summary>
    public required long Tokens { get; init; }

    /// <summary>Trained positions stored (rows of top-K).</summary>
    public required long TrainedPositions { get; init; }

    /// <summary>Size of the file in bytes.</summary>
    public required long Bytes { get; init; }

    /// <summary>SHA-256 of the file, lower-case hex.</summary>
    public required string Sha256 { get; init; }
}
