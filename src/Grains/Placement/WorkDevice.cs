using FuseChat.Torch;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuseChat.Grains.Placement;

/// <summary>
/// The device this silo's model workers (representations, pairwise fusion, evaluation) compute on, from
/// <see cref="GpuSiloOptions.Device"/>: by default the first GPU when libtorch sees one, else the CPU.
/// </summary>
public sealed class WorkDevice
{
    /// <summary>The setting's default: the first GPU when libtorch sees one, else the CPU.</summary>
    public const string Auto = "auto";

    private readonly Lazy<Device> _device;

    /// <summary>Resolves the options' device on first use (libtorch is asked how many GPUs it sees then).</summary>
    /// <param name="options">The GPU settings of this silo.</param>
    public WorkDevice(IOptions<GpuSiloOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _device = new Lazy<Device>(() => Resolve(options.Value.Device, () => TorchRuntime.CudaDeviceCount));
    }

    /// <summary>The device to compute on.</summary>
    public Device Current => _device.Value;

    /// <summary>
    /// Turns a setting into a device: <c>auto</c> (or empty), <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>. A GPU that
    /// libtorch does not see is refused with a message that says how many it sees.
    /// </summary>
    /// <param name="setting">The value of FuseChat:Gpu:Device.</param>
    /// <param name="cudaDevices">How many CUDA devices libtorch sees; asked only when the setting needs it.</param>
    /// <returns>The device.</returns>
    /// <exception cref="InvalidOperationException">The setting is malformed or names a GPU that is not there.</exception>
    public static Device Resolve(string? setting, Func<int> cudaDevices)
    {
        ArgumentNullException.ThrowIfNull(cudaDevices);
        if (string.IsNullOrWhiteSpace(setting) || string.Equals(setting.Trim(), Auto, StringComparison.OrdinalIgnoreCase))
            return cudaDevices() > 0 ? Device.Cuda(0) : Device.Cpu;
        Device device;
        try
        {
            device = Device.Parse(setting.Trim().ToLowerInvariant());
        }
        catch (ArgumentException)
        {
            throw new InvalidOperationException($"{GpuSiloOptions.SectionName}:{nameof(GpuSiloOptions.Device)} is '{setting}': expected auto, cpu, cuda or cuda:N.");
        }

        if (device.Type == DeviceType.Cuda)
        {
            var count = cudaDevices();
            if (device.Index >= count)
            {
                var why = count == 0
                    ? "none (a CPU build of the shim, or no GPU visible to this process; docs/gpu.md)"
                    : $"{count} (cuda:0 to cuda:{count - 1})";
                throw new InvalidOperationException($"{GpuSiloOptions.SectionName}:{nameof(GpuSiloOptions.Device)} is '{setting}', but the CUDA devices libtorch sees here are {why}.");
            }
        }

        return device;
    }

    /// <summary>The silo's <see cref="WorkDevice"/>, or <c>auto</c> where none is registered (a bare test host).</summary>
    internal static Device Of(IServiceProvider services) =>
        services.GetService<WorkDevice>()?.Current ?? Resolve(Auto, () => TorchRuntime.CudaDeviceCount);
}
