using FuseChat.Grains.Placement;

namespace FuseChat.Grains.Tests.Placement;

/// <summary>Clusters that start with CPU silos only.</summary>
public sealed class GpuPlacementWithoutGpuSiloTests
{
    [Fact]
    public async Task NoGpuSilo_WithoutFallback_FailsWithRecognisableError()
    {
        await using var cluster = await GpuTestCluster.StartAsync(2, _ => false, allowCpuFallback: false);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.Client.GetGrain<IGpuProbeGrain>(1).GetSiloAsync());

        Assert.True(GpuPlacement.IsNoGpuSiloError(error), error.ToString());
    }

    [Fact]
    public async Task NoGpuSilo_WithFallback_RunsOnACpuSilo()
    {
        await using var cluster = await GpuTestCluster.StartAsync(2, _ => false, allowCpuFallback: true);

        var silo = await cluster.Client.GetGrain<IGpuProbeGrain>(1).GetSiloAsync();

        Assert.Contains(cluster.Cluster.Silos, s => s.SiloAddress == silo);
    }

    [Fact]
    public async Task GpuSiloJoiningLater_MakesTheRetrySucceed()
    {
        await using var cluster = await GpuTestCluster.StartAsync(2, _ => false, allowCpuFallback: false);
        var statuses = new List<string>();
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(40));

        var call = GpuPlacement.RetryUntilGpuSiloAsync(
            _ => cluster.Client.GetGrain<IGpuProbeGrain>(7).GetSiloAsync(),
            status => { lock (statuses) { statuses.Add(status); } },
            TimeSpan.FromMilliseconds(200),
            giveUp.Token);

        // The first attempt must have failed before the GPU silo exists, or the test proves nothing.
        while (!call.IsCompleted && statuses.Count == 0)
        {
            await Task.Delay(20, giveUp.Token);
        }

        Assert.False(call.IsCompleted);
        cluster.NextSilosAreGpu = true;
        await cluster.Cluster.StartAdditionalSiloAsync();
        await cluster.WaitForMetadataAsync();

        var silo = await call;

        Assert.Equal(Assert.Single(cluster.GpuSilos()), silo);
        lock (statuses)
        {
            Assert.All(statuses, s => Assert.Equal(GpuPlacement.NoGpuSiloStatus, s));
        }
    }
}
