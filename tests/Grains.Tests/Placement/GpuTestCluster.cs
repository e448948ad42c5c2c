using System.Diagnostics;
using FuseChat.Grains.Placement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.TestingHost;

namespace FuseChat.Grains.Tests.Placement;

/// <summary>
/// An in-process cluster whose silos get gpu=true or false through configuration, as a deployment
/// sets ORLEANS__METADATA__gpu, and which register placement through UseFuseChatGpuPlacement.
/// </summary>
public sealed class GpuTestCluster : IAsyncDisposable
{
    private readonly Func<string, bool> _isGpu;

    private GpuTestCluster(Func<string, bool> isGpu) => _isGpu = isGpu;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>Names of the silos that were started with gpu=true.</summary>
    public HashSet<string> GpuSiloNames { get; } = [];

    /// <summary>When set, silos started from now on are GPU silos whatever the predicate says.</summary>
    public bool NextSilosAreGpu { get; set; }

    public IClusterClient Client => Cluster.Client;

    /// <param name="silos">Initial silo count (names Silo_0, Silo_1, ...).</param>
    /// <param name="isGpu">Which silo names carry gpu=true.</param>
    /// <param name="allowCpuFallback">GpuSiloOptions.AllowCpuFallback on every silo.</param>
    public static async Task<GpuTestCluster> StartAsync(short silos, Func<string, bool> isGpu, bool allowCpuFallback)
    {
        var result = new GpuTestCluster(isGpu);
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSiloHost((options, host) =>
        {
            var gpu = result.NextSilosAreGpu || result._isGpu(options.SiloName);
            if (gpu)
            {
                lock (result.GpuSiloNames)
                {
                    result.GpuSiloNames.Add(options.SiloName);
                }
            }

            host.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [$"Orleans:Metadata:{GpuPlacement.MetadataKey}"] = gpu ? "true" : "false",
            });
        });
        builder.ConfigureSilo((_, silo) => silo.UseFuseChatGpuPlacement(o => o.AllowCpuFallback = allowCpuFallback));
        result.Cluster = builder.Build();
        await result.Cluster.DeployAsync();
        await result.WaitForMetadataAsync();
        return result;
    }

    /// <summary>The addresses of the active silos started with gpu=true.</summary>
    public IReadOnlyList<SiloAddress> GpuSilos() =>
        [.. Cluster.Silos.Where(s => s.IsActive && GpuSiloNames.Contains(s.Name)).Select(s => s.SiloAddress)];

    /// <summary>
    /// Waits until every active silo's metadata cache holds every active silo's gpu value: remote
    /// metadata is fetched shortly after a silo joins, and placement before that sees no GPU silo.
    /// </summary>
    public async Task WaitForMetadataAsync(TimeSpan? timeout = null)
    {
        var limit = Stopwatch.StartNew();
        var deadline = timeout ?? TimeSpan.FromSeconds(20);
        while (true)
        {
            var silos = Cluster.Silos.Where(s => s.IsActive).ToList();
            var complete = silos.All(observer =>
            {
                var cache = Cluster.GetSiloServiceProvider(observer.SiloAddress).GetRequiredService<ISiloMetadataCache>();
                return silos.All(s => cache.GetSiloMetadata(s.SiloAddress).Metadata.ContainsKey(GpuPlacement.MetadataKey));
            });
            if (complete)
            {
                return;
            }

            if (limit.Elapsed > deadline)
            {
                throw new TimeoutException($"Silo metadata did not reach every silo within {deadline}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.StopAllSilosAsync();
            await Cluster.DisposeAsync();
        }
    }
}
