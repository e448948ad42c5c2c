namespace FuseChat.Grains.Runs;

/// <summary>
/// Stage 4 settings (YAML section <c>merge</c>): either a method with its parameters, or <c>recipe</c>, a
/// mergekit-format recipe file whose <c>models</c> name sources by their spec name (and the pivot as
/// "pivot"); the run fills in the target and pivot folders.
/// </summary>
public sealed record MergeSpec
{
    /// <summary><c>method</c>: sce (default), varm, linear, task_arithmetic, ties, dare_linear, dare_ties.</summary>
    public string Method { get; init; } = "sce";

    /// <summary><c>select_topk</c>: SCE's τ (paper: 0.1).</summary>
    public double SelectTopK { get; init; } = 0.1;

    /// <summary><c>sce_variant</c>: paper or upstream; null = paper.</summary>
    public string? SceVariant { get; init; }

    /// <summary><c>weight</c>: per-model weight for the baselines, or null.</summary>
    public double? Weight { get; init; }

    /// <summary><c>density</c>: kept fraction for TIES and DARE, or null.</summary>
    public double? Density { get; init; }

    /// <summary><c>dtype</c>: output dtype (mergekit names), or null to keep the pivot's.</summary>
    public string? Dtype { get; init; }

    /// <summary><c>recipe</c>: absolute path of a recipe file; when set, the method settings above are not used.</summary>
    public string? RecipeFile { get; init; }

    /// <summary>
    /// <c>ranges</c>: how many grains share the merge, each merging a contiguous range of output shards
    /// (capped at the number of shards; 1 merges in the stage grain alone). Default 4.
    /// </summary>
    public int Ranges { get; init; } = 4;

    /// <summary>
    /// <c>parallel_ranges</c>: how many ranges merge at the same time; 0 (the default) runs them all at once. Each
    /// range holds (targets + 2) x the largest tensor in memory on its silo, and placement may put several on one
    /// silo: lower this on small silos.
    /// </summary>
    public int ParallelRanges { get; init; }

    /// <summary><c>shard_bytes</c>: largest output shard, the unit ranges are cut in. Default 5 GB, as transformers writes.</summary>
    public long ShardBytes { get; init; } = 5_000_000_000;
}
