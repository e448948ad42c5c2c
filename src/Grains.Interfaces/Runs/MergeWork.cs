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
}
