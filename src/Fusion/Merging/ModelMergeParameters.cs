namespace FuseChat.Fusion.Merging;

/// <summary>Parameters of one model in a merge (mergekit's per-model <c>parameters:</c> block).</summary>
/// <param name="Weight">Mixing weight; methods that compute their own weights (SCE, VaRM) ignore it.</param>
/// <param name="Density">Fraction of the delta kept by TIES (largest magnitudes) and DARE (keep probability), in (0, 1].</param>
public sealed record ModelMergeParameters(double Weight = 1.0, double Density = 1.0);
