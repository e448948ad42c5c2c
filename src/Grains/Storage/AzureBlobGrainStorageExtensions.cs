using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace FuseChat.Grains.Storage;

/// <summary>Registers <see cref="AzureBlobGrainStorage"/> as a named Orleans grain storage provider.</summary>
public static class AzureBlobGrainStorageExtensions
{
    /// <summary>Adds Azure blob grain storage under <paramref name="name"/>.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The name grains use in [PersistentState(..., storageName)].</param>
    /// <param name="configure">Sets the connection and container.</param>
    /// <returns>The builder.</returns>
    public static ISiloBuilder AddAzureBlobGrainStorage(this ISiloBuilder builder, string name, Action<AzureBlobGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddAzureBlobGrainStorage(name, configure);
        return builder;
    }

    /// <summary>Adds Azure blob grain storage as the default provider (the one grains get without a storage name).</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Sets the connection and container.</param>
    /// <returns>The builder.</returns>
    public static ISiloBuilder AddAzureBlobGrainStorageAsDefault(this ISiloBuilder builder, Action<AzureBlobGrainStorageOptions> configure) =>
        builder.AddAzureBlobGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configure);

    /// <summary>Adds Azure blob grain storage as the default provider.</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="configure">Sets the connection and container.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddAzureBlobGrainStorageAsDefault(this IServiceCollection services, Action<AzureBlobGrainStorageOptions> configure) =>
        services.AddAzureBlobGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configure);

    /// <summary>Adds Azure blob grain storage under <paramref name="name"/>.</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="name">The name grains use in [PersistentState(..., storageName)].</param>
    /// <param name="configure">Sets the connection and container.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddAzureBlobGrainStorage(this IServiceCollection services, string name, Action<AzureBlobGrainStorageOptions> configure) =>
        GrainStorageRegistration.Add<AzureBlobGrainStorageOptions, AzureBlobGrainStorage>(services, name, configure,
            static (options, n) => options.Validate(n), static (n, options, serializer, activators, logger) => new AzureBlobGrainStorage(n, options, serializer, activators, logger));
}
