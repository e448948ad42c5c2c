namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>Stage 4: what <see cref="IMergeStageGrain"/> merges.</summary>
[GenerateSerializer]
[Alias("FuseChat.MergeWork")]
public sealed record MergeWork
{
    /// <summary>The run to notify when the work ends.</summary>
    [Id(0)] public required string RunId { get; init; }

    /// <summary>A mergekit-format recipe whose model paths are absolute (the pivot and the targets).</summary>
    [Id(1)] public required string RecipeYaml { get; init; }

    /// <summary>The fused model folder; it appears only when the merge is complete.</summary>
    [Id(2)] public required string OutputFolder { get; init; }

    /// <summary>
    /// How many <see cref="IMergeRangeGrain"/>s share the merge, each taking a contiguous range of output
    /// shards (at most one range per shard); 1 merges in the stage grain itself, 0 means the default, 4.
    /// </summary>
    [Id(3)] public int Ranges { get; init; }

    /// <summary>Largest output shard in bytes (the unit ranges are cut in); 0 means the default, 5 GB.</summary>
    [Id(4)] public long MaxShardBytes { get; init; }

    /// <summary>How many ranges merge at the same time; 0 means all of them.</summary>
    [Id(5)] public int ParallelRanges { get; init; }
}
