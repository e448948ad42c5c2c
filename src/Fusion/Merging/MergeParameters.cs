namespace FuseChat.Fusion.Merging;

/// <summary>Method-wide merge parameters (mergekit's top-level <c>parameters:</c> block).</summary>
public sealed record MergeParameters
{
    /// <summary>SCE's tau: the fraction of non-zero-variance positions selected (mergekit's default 1.0; the paper uses 0.1).</summary>
    public double SelectTopK { get; init; } = 1.0;

    /// <summary>
    /// Divide the mixed delta (or mixture) by the sum of the weights that contributed. Null takes the
    /// method's mergekit default: true for linear and ties, false for task_arithmetic and the DARE methods.
    /// </summary>
    public bool? Normalize { get; init; }

    /// <summary>mergekit's int8_mask: a memory saving there; masks are exact either way, so it changes no result here.</summary>
    public bool Int8Mask { get; init; }

    /// <summary>DARE: divide kept entries by the density so the expected delta is unchanged (mergekit default true).</summary>
    public bool Rescale { get; init; } = true;

    /// <summary>Scale of the mixed delta before it is added to the pivot (task arithmetic, TIES, DARE; default 1).</summary>
    public double Lambda { get; init; } = 1.0;

    /// <summary>
    /// DARE's seed. Each tensor's drop masks are drawn from a generator seeded from this value, the tensor
    /// name and the model index, so a merge gives the same result whatever order or machine handles the tensors.
    /// </summary>
    public ulong Seed { get; init; }
}
