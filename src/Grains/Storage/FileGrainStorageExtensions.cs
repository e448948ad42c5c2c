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

/// <summary>Registers <see cref="FileGrainStorage"/> as a named Orleans grain storage provider.</summary>
public static class FileGrainStorageExtensions
{
    /// <summary>Adds file grain storage under <paramref name="name"/>, keeping states in <paramref name="folder"/>.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The name grains use in [PersistentState(..., storageName)].</param>
    /// <param name="folder">The folder holding one JSON file per state.</param>
    /// <returns>The builder.</returns>
    public static ISiloBuilder AddFileGrainStorage(this ISiloBuilder builder, string name, string folder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddFileGrainStorage(name, o => o.Folder = folder);
        return builder;
    }

    /// <summary>Adds file grain storage as the default provider, keeping states in <paramref name="folder"/>.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="folder">The folder holding one JSON file per state.</param>
    /// <returns>The builder.</returns>
    public static ISiloBuilder AddFileGrainStorageAsDefault(this ISiloBuilder builder, string folder) =>
        builder.AddFileGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, folder);

    /// <summary>Adds file grain storage under <paramref name="name"/>, keeping states in <paramref name="folder"/>.</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="name">The name grains use in [PersistentState(..., storageName)].</param>
    /// <param name="folder">The folder holding one JSON file per state.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddFileGrainStorage(this IServiceCollection services, string name, string folder) =>
        services.AddFileGrainStorage(name, o => o.Folder = folder);

    /// <summary>Adds file grain storage under <paramref name="name"/>.</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="name">The name grains use in [PersistentState(..., storageName)].</param>
    /// <param name="configure">Sets the folder and clear behaviour.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddFileGrainStorage(this IServiceCollection services, string name, Action<FileGrainStorageOptions> configure) =>
        GrainStorageRegistration.Add<FileGrainStorageOptions, FileGrainStorage>(services, name, configure,
            static (options, n) => options.Validate(n), static (n, options, serializer, activators, logger) => new FileGrainStorage(n, options, serializer, activators, logger));
}
