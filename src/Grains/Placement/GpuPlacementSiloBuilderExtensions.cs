using Microsoft.Extensions.DependencyInjection;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace FuseChat.Grains.Placement;

/// <summary>Registers GPU placement on a silo.</summary>
public static class GpuPlacementSiloBuilderExtensions
{
    /// <summary>
    /// Publishes this silo's metadata from the configuration section <c>Orleans:Metadata</c>
    /// (ORLEANS__METADATA__gpu=true marks a GPU silo), binds <see cref="GpuSiloOptions"/> from
    /// <see cref="GpuSiloOptions.SectionName"/> and then <paramref name="configure"/>, and registers
    /// the filter behind <see cref="RequiresGpuAttribute"/> and the <see cref="WorkDevice"/> that model workers compute on.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Adjusts the options after configuration; may be <see langword="null"/>.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder UseFuseChatGpuPlacement(this ISiloBuilder builder, Action<GpuSiloOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // UseSiloMetadata registers lifecycle participants; a second call (the host may already have
        // made one) would start them twice.
        if (!builder.Services.Any(d => d.ServiceType == typeof(ISiloMetadataCache)))
        {
            builder.UseSiloMetadata();
        }

        var options = builder.Services.AddOptions<GpuSiloOptions>().Bind(builder.Configuration.GetSection(GpuSiloOptions.SectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.AddPlacementFilter<GpuPlacementFilterStrategy, GpuPlacementFilterDirector>(ServiceLifetime.Transient);
        builder.Services.AddSingleton<WorkDevice>();
        return builder;
    }
}
