using FuseChat.Grains.Placement;
using Orleans.Runtime;

namespace FuseChat.Grains.Tests.Placement;

/// <summary>Reports the silo its activation runs on.</summary>
public interface ISiloProbeGrain : IGrainWithIntegerKey
{
    Task<SiloAddress> GetSiloAsync();
}

/// <summary>A stand-in for a model grain.</summary>
public interface IGpuProbeGrain : ISiloProbeGrain;

/// <summary>A stand-in for an orchestration grain, placed by Orleans' default strategy.</summary>
public interface ICpuProbeGrain : ISiloProbeGrain;

[RequiresGpu]
public sealed class GpuProbeGrain(ILocalSiloDetails silo) : Grain, IGpuProbeGrain
{
    public Task<SiloAddress> GetSiloAsync() => Task.FromResult(silo.SiloAddress);
}

public sealed class CpuProbeGrain(ILocalSiloDetails silo) : Grain, ICpuProbeGrain
{
    public Task<SiloAddress> GetSiloAsync() => Task.FromResult(silo.SiloAddress);
}
