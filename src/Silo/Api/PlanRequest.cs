namespace FuseChat.Silo.Api;

/// <summary>Body of POST /api/plans.</summary>
/// <param name="Spec">The run spec (YAML text).</param>
/// <param name="SpecDirectory">Folder that relative paths of the spec are resolved against, as the silo sees it.</param>
/// <param name="EffectiveTflops">Sustained TFLOP/s of one GPU for the GPU-hours figure (default 300).</param>
public sealed record PlanRequest(string Spec, string SpecDirectory, double? EffectiveTflops = null);
