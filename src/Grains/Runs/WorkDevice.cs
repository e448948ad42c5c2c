using FuseChat.Torch;

namespace FuseChat.Grains.Runs;

/// <summary>The device a worker computes on: the first GPU when libtorch sees one, else the CPU.</summary>
internal static class WorkDevice
{
    public static Device Pick() => TorchRuntime.IsCudaAvailable ? Device.Cuda(0) : Device.Cpu;
}
