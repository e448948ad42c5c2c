using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime.Hosting;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace FuseChat.Grains.Storage;

/// <summary>Registers one of our grain storage providers under a name, with its options checked at silo start.</summary>
internal static class GrainStorageRegistration
{
    /// <summary>Adds named options, a start-up validator and the provider made by <paramref name="create"/>.</summary>
    /// <typeparam name="TOptions">The provider's options.</typeparam>
    /// <typeparam name="TStorage">The provider.</typeparam>
    public static IServiceCollection Add<TOptions, TStorage>(IServiceCollection services, string name, Action<TOptions> configure,
        Action<TOptions, string> validate,
        Func<string, TOptions, IGrainStorageSerializer?, IActivatorProvider?, ILogger<TStorage>?, TStorage> create)
        where TOptions : class
        where TStorage : IGrainStorage
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<TOptions>(name).Configure(configure);
        // Checked when the silo starts, so a bad setting stops it with a clear message instead of failing the first grain.
        services.AddSingleton<IConfigurationValidator>(sp => new NamedOptionsValidator(() => validate(sp.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name), name)));
        return services.AddGrainStorage(name, (sp, n) => create(
            n,
            sp.GetRequiredService<IOptionsMonitor<TOptions>>().Get(n),
            sp.GetService<IGrainStorageSerializer>(),
            sp.GetService<IActivatorProvider>(),
            sp.GetService<ILogger<TStorage>>()));
    }
}
