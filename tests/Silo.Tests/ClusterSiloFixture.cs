using FuseChat.Grains.Tests.Storage;
using FuseChat.Silo.Tests.Support;

namespace FuseChat.Silo.Tests;

/// <summary>A real redis-server and Azurite for cluster-mode silos.</summary>
public sealed class ClusterSiloFixture : IAsyncLifetime
{
    public RedisServer Redis { get; } = new();

    public AzuriteFixture Azurite { get; } = new();

    public async Task InitializeAsync()
    {
        await Task.WhenAll(Redis.InitializeAsync(), Azurite.InitializeAsync());
    }

    public async Task DisposeAsync()
    {
        await Redis.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}
