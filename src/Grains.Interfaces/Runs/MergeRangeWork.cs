namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>Stage 4, one part: what <see cref="IMergeRangeGrain"/> merges (a range of the output shards).</summary>
[GenerateSerializer]
[Alias("FuseChat.MergeRangeWork")]
public sealed record MergeRangeWork
{
    /// <summary>The run to notify when the work ends.</summary>
    [Id(0)] public required string RunId { get; init; }

    /// <summary>The whole merge's recipe, as in <see cref="MergeWork.RecipeYaml"/>.</summary>
    [Id(1)] public required string RecipeYaml { get; init; }

    /// <summary>The fused model folder; the range writes into its staging folder, never into the folder itself.</summary>
    [Id(2)] public required string OutputFolder { get; init; }

    /// <summary>First output shard of the range.</summary>
    [Id(3)] public int FirstShard { get; init; }

    /// <summary>Output shards in the range.</summary>
    [Id(4)] public int ShardCount { get; init; }

    /// <summary>Largest output shard in bytes, the same for every range of a merge (it fixes the shards).</summary>
    [Id(5)] public long MaxShardBytes { get; init; }
}
