using Orleans.Runtime;

namespace FuseChat.Grains.Tests.Placement;

public sealed class GpuPlacementClusterTests(OneGpuSiloClusterFixture fixture) : IClassFixture<OneGpuSiloClusterFixture>
{
    private const int GrainCount = 30;

    [Fact]
    public async Task GpuGrains_AllLandOnTheGpuSilo()
    {
        var gpuSilo = Assert.Single(fixture.Cluster.GpuSilos());

        var placed = await Task.WhenAll(Enumerable.Range(0, GrainCount)
            .Select(key => fixture.Cluster.Client.GetGrain<IGpuProbeGrain>(key).GetSiloAsync()));

        Assert.All(placed, silo => Assert.Equal(gpuSilo, silo));
    }

    [Fact]
    public async Task GrainsWithoutTheAttribute_SpreadOverSilos()
    {
        // Keys far from the GPU test's, so that both tests activate fresh grains.
        var placed = await Task.WhenAll(Enumerable.Range(10_000, GrainCount)
            .Select(key => fixture.Cluster.Client.GetGrain<ICpuProbeGrain>(key).GetSiloAsync()));

        var used = placed.Distinct().ToList();
        Assert.True(used.Count >= 2, $"all {GrainCount} grains went to {string.Join(", ", used)}");
        Assert.Contains(used, silo => !fixture.Cluster.GpuSilos().Contains(silo));
    }
}
