using System.Net;
using System.Reflection;
using FuseChat.Grains.Placement;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace FuseChat.Grains.Tests.Placement;

public sealed class GpuPlacementFilterDirectorTests
{
    private static readonly SiloAddress Cpu1 = SiloAddress.New(IPAddress.Loopback, 11111, 1);
    private static readonly SiloAddress Cpu2 = SiloAddress.New(IPAddress.Loopback, 11112, 1);
    private static readonly SiloAddress Gpu = SiloAddress.New(IPAddress.Loopback, 11113, 1);
    private static readonly SiloAddress Unknown = SiloAddress.New(IPAddress.Loopback, 11114, 1);

    private static readonly PlacementTarget Target = new(
        GrainId.Create("gpuprobe", "1"), [], default, 0);

    private sealed class FakeCache(Dictionary<SiloAddress, SiloMetadata> metadata) : ISiloMetadataCache
    {
        public SiloMetadata GetSiloMetadata(SiloAddress siloAddress) =>
            metadata.TryGetValue(siloAddress, out var m) ? m : SiloMetadata.Empty;
    }

    private static SiloMetadata Metadata(string gpu)
    {
        // SiloMetadata.AddMetadata is internal in Orleans 10.4.2: silos fill it from UseSiloMetadata.
        var metadata = new SiloMetadata();
        typeof(SiloMetadata)
            .GetMethod("AddMetadata", BindingFlags.Instance | BindingFlags.NonPublic, [typeof(IEnumerable<KeyValuePair<string, string>>)])!
            .Invoke(metadata, [new Dictionary<string, string> { [GpuPlacement.MetadataKey] = gpu }]);
        return metadata;
    }

    private static GpuPlacementFilterDirector Director(bool allowCpuFallback, Dictionary<SiloAddress, SiloMetadata> metadata) =>
        new(new FakeCache(metadata),
            new OptionsMonitorStub(new GpuSiloOptions { AllowCpuFallback = allowCpuFallback }),
            NullLogger<GpuPlacementFilterDirector>.Instance);

    private sealed class OptionsMonitorStub(GpuSiloOptions value) : IOptionsMonitor<GpuSiloOptions>
    {
        public GpuSiloOptions CurrentValue => value;

        public GpuSiloOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<GpuSiloOptions, string?> listener) => null;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KeepsOnlyGpuSilos_WhateverTheFallback(bool allowCpuFallback)
    {
        var director = Director(allowCpuFallback, new() { [Cpu1] = Metadata("false"), [Gpu] = Metadata("True"), [Cpu2] = Metadata("no") });

        var kept = director.Filter(new GpuPlacementFilterStrategy(), Target, [Cpu1, Gpu, Cpu2, Unknown]);

        Assert.Equal([Gpu], kept);
    }

    [Fact]
    public void NoGpuSilo_WithoutFallback_KeepsNothing()
    {
        var director = Director(false, new() { [Cpu1] = Metadata("false") });

        Assert.Empty(director.Filter(new GpuPlacementFilterStrategy(), Target, [Cpu1, Unknown]));
    }

    [Fact]
    public void NoGpuSilo_WithFallback_KeepsEverySilo()
    {
        var director = Director(true, new() { [Cpu1] = Metadata("false") });

        Assert.Equal([Cpu1, Unknown], director.Filter(new GpuPlacementFilterStrategy(), Target, [Cpu1, Unknown]));
    }

    [Fact]
    public void IsNoGpuSiloError_RecognisesOrleansPlacementFailures_Only()
    {
        var placement = new OrleansException("No active nodes are compatible with grain gpuprobe and interface X version 0.");

        Assert.True(GpuPlacement.IsNoGpuSiloError(placement));
        Assert.True(GpuPlacement.IsNoGpuSiloError(new AggregateException(placement)));
        Assert.True(GpuPlacement.IsNoGpuSiloError(new SiloUnavailableException("Cannot place grain 'x' because there are no compatible silos.")));
        Assert.False(GpuPlacement.IsNoGpuSiloError(new OrleansException("Response did not arrive on time")));
        Assert.False(GpuPlacement.IsNoGpuSiloError(new InvalidOperationException("No active nodes are compatible with grain")));
    }

    [Fact]
    public async Task Retry_PropagatesOtherErrors_AtOnce()
    {
        var attempts = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => GpuPlacement.RetryUntilGpuSiloAsync<int>(
            _ =>
            {
                attempts++;
                throw new InvalidOperationException("boom");
            },
            retryInterval: TimeSpan.FromMilliseconds(1)));

        Assert.Equal(1, attempts);
    }
}
