using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace FuseChat.Grains.Placement;

/// <summary>
/// Keeps only the candidate silos whose metadata says <c>gpu=true</c>. Unlike Orleans'
/// RequiredMatchSiloMetadataPlacementFilter, which keeps silos whose value equals the calling
/// silo's, this pins grains to GPU silos whatever silo places them.
/// </summary>
public sealed partial class GpuPlacementFilterDirector : IPlacementFilterDirector
{
    private readonly ISiloMetadataCache _metadata;
    private readonly IOptionsMonitor<GpuSiloOptions> _options;
    private readonly ILogger<GpuPlacementFilterDirector> _logger;

    /// <summary>Creates the director; Orleans resolves it from the silo's container.</summary>
    /// <param name="metadata">Metadata of the cluster's silos, as last received.</param>
    /// <param name="options">GPU placement settings.</param>
    /// <param name="logger">Logger for placements that find no GPU silo.</param>
    public GpuPlacementFilterDirector(
        ISiloMetadataCache metadata,
        IOptionsMonitor<GpuSiloOptions> options,
        ILogger<GpuPlacementFilterDirector> logger)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _metadata = metadata;
        _options = options;
        _logger = logger;
    }

    /// <summary>
    /// Returns the GPU silos among <paramref name="silos"/>; when there are none, all of them if
    /// <see cref="GpuSiloOptions.AllowCpuFallback"/> is set, else none, which makes Orleans fail the
    /// activation so that the caller can retry once a GPU silo has joined.
    /// </summary>
    /// <param name="filterStrategy">The grain's <see cref="GpuPlacementFilterStrategy"/>.</param>
    /// <param name="target">The activation being placed.</param>
    /// <param name="silos">Candidate silos left by earlier filters.</param>
    /// <returns>The silos the grain may be placed on.</returns>
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        ArgumentNullException.ThrowIfNull(silos);

        // Materialised because the candidates are enumerated twice when falling back.
        var candidates = silos as IReadOnlyCollection<SiloAddress> ?? silos.ToList();
        var gpuSilos = candidates.Where(silo => GpuPlacement.IsGpuSilo(_metadata.GetSiloMetadata(silo))).ToList();
        if (gpuSilos.Count > 0)
        {
            return gpuSilos;
        }

        if (_options.CurrentValue.AllowCpuFallback)
        {
            LogCpuFallback(_logger, target.GrainIdentity, candidates.Count);
            return candidates;
        }

        LogNoGpuSilo(_logger, target.GrainIdentity, candidates.Count);
        return [];
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "No GPU silo among {Count} candidates for {GrainId}: CPU fallback allowed, placing on any silo")]
    private static partial void LogCpuFallback(ILogger logger, GrainId grainId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No GPU silo among {Count} candidates for {GrainId}: placement fails until a silo with gpu=true joins")]
    private static partial void LogNoGpuSilo(ILogger logger, GrainId grainId, int count);
}
