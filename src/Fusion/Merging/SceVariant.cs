namespace FuseChat.Fusion.Merging;

/// <summary>The two published forms of SCE, which differ in where the top-k variance mask applies.</summary>
public enum SceVariant
{
    /// <summary>
    /// The FuseChat authors' code: the mask only decides the per-model weights; Erase and the weighted
    /// sum use the full deltas.
    /// </summary>
    Paper = 0,

    /// <summary>
    /// The later upstream (mergekit) code: the deltas themselves are masked before Erase and the sum,
    /// so positions outside the top-k keep the pivot's value.
    /// </summary>
    Upstream = 1,
}
