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

    /// <summary>
    /// The device this silo's model workers compute on: <c>auto</c> (the default: the first GPU when libtorch sees
    /// one, else the CPU), <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>. A per-silo setting, unlike the placement above:
    /// pick another GPU of a shared machine, or keep a silo off its GPU. A GPU that libtorch does not see stops the
    /// silo at start with a message that says how many it sees.
    /// </summary>
    public string Device { get; set; } = WorkDevice.Auto;
}
