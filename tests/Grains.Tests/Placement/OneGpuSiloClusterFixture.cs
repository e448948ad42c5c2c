namespace FuseChat.Grains.Tests.Placement;

/// <summary>Three silos, Silo_2 the only GPU silo, no CPU fallback.</summary>
public sealed class OneGpuSiloClusterFixture : IAsyncLifetime
{
    public GpuTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await GpuTestCluster.StartAsync(3, name => name == "Silo_2", allowCpuFallback: false);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
