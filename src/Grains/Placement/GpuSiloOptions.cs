namespace FuseChat.Grains.Placement;

/// <summary>
/// Settings for placing GPU-bound grains (training, inference) on silos that carry the metadata
/// <c>gpu=true</c>. Bound from the configuration section <see cref="SectionName"/> and then from the
/// delegate given to <see cref="GpuPlacementSiloBuilderExtensions.UseFuseChatGpuPlacement"/>.
/// </summary>
/// <remarks>
/// Placement runs on whichever silo receives the first call for a grain, so every silo of a cluster
/// should use the same values.
/// </remarks>
public sealed class GpuSiloOptions
{
    /// <summary>The configuration section these options are bound from (e.g. env FUSECHAT__GPU__ALLOWCPUFALLBACK=true).</summary>
    public const string SectionName = "FuseChat:Gpu";

    /// <summary>
    /// When no silo of the cluster carries <c>gpu=true</c>, let grains marked
    /// <see cref="RequiresGpuAttribute"/> run on any silo. For development, tests and CI, where no GPU
    /// exists; leave it off in production so that model work waits for a GPU silo instead of running
    /// on a CPU at a fraction of the speed. GPU silos are still preferred whenever one is present.
    /// </summary>
    public bool AllowCpuFallback { get; set; }
}
