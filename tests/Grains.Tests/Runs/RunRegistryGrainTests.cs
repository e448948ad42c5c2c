using FuseChat.Grains.Interfaces.Runs;
using Orleans.Core.Internal;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>The registry's state survives a new activation (as after a silo loss), read back from storage.</summary>
public sealed class RunRegistryGrainTests(RunClusterFixture fixture) : IClassFixture<RunClusterFixture>
{
    [Fact]
    public async Task RunIdsAreReadBackByANewActivation()
    {
        var registry = fixture.Client.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key);
        await registry.AddAsync("first");
        await registry.AddAsync("second");
        await registry.AddAsync("first");

        await registry.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await Task.Delay(300);

        Assert.Equal(["first", "second"], await registry.ListAsync());
        await registry.AddAsync("third");
        Assert.Equal(["first", "second", "third"], await registry.ListAsync());
    }
}
