namespace FuseChat.Torch.Tests.Runtime;

public class RuntimeInfoTests
{
    [Fact]
    public void VersionAndDevices()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+$", TorchRuntime.Version);
        Assert.Equal(TorchRuntime.Version.StartsWith("1.", StringComparison.Ordinal), !TorchRuntime.HasFusedAttention);
        Assert.True(TorchRuntime.CudaDeviceCount >= 0);
        Assert.True(TorchRuntime.Threads >= 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchRuntime.Threads = 0);
    }

    [Fact]
    public void DeviceMemoryIsKnownExactlyWhereThereIsAnAcceleratorToCount()
    {
        if (!TorchRuntime.IsCudaAvailable)
        {
            // CPU tensors are not the accelerator allocator's to count, with or without statistics in this build.
            using var scope = DisposeScope.Open();
            _ = Tensor.Zeros([1024]);
            Assert.Null(TorchRuntime.DeviceMemory());
            return;
        }

        var version = Version.Parse(TorchRuntime.Version);
        if (version < new Version(2, 9))
        {
            Assert.Null(TorchRuntime.DeviceMemory());
            return;
        }
        var before = TorchRuntime.DeviceMemory(resetPeak: true)!.Value;
        using (var scope = DisposeScope.Open())
        {
            _ = Tensor.Zeros([1 << 20], device: Device.Cuda());
            var during = TorchRuntime.DeviceMemory()!.Value;
            Assert.True(during.Allocated >= before.Allocated + 4 * (1 << 20), $"{during.Allocated} bytes after a 4 MiB tensor, {before.Allocated} before");
        }
        var after = TorchRuntime.DeviceMemory()!.Value;
        Assert.True(after.Peak >= before.Allocated + 4 * (1 << 20));
        Assert.True(after.Allocated < after.Peak);
    }

    [Fact]
    public void DTypeAndDeviceNames()
    {
        Assert.Equal(DType.BFloat16, DTypeExtensions.Parse("bf16"));
        Assert.Equal(DType.Float32, DTypeExtensions.Parse(" Float32 "));
        Assert.Equal("bf16", DType.BFloat16.ShortName());
        Assert.Equal(2, DType.Float16.ElementSize());
        Assert.Throws<ArgumentException>(() => DTypeExtensions.Parse("f8"));
        Assert.Equal(Device.Cuda(1), Device.Parse("cuda:1"));
        Assert.Equal(Device.Cpu, Device.Parse("CPU"));
        Assert.Equal("cuda:0", Device.Cuda().ToString());
        Assert.Throws<ArgumentException>(() => Device.Parse("cuda:-1"));
        using var scope = DisposeScope.Open();
        Assert.Equal("Tensor([2, 3], f32, cpu)", Tensor.Zeros([2, 3]).ToString());
    }
}
