using FuseChat.Grains.Placement;
using FuseChat.Torch;
using Microsoft.Extensions.Options;

namespace FuseChat.Grains.Tests.Placement;

public sealed class WorkDeviceTests
{
    private static Func<int> Sees(int count) => () => count;

    private static int NotAsked() => throw new InvalidOperationException("libtorch was asked for its GPUs");

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("auto")]
    [InlineData(" AUTO ")]
    public void Auto_takes_the_first_gpu_when_libtorch_sees_one_else_the_cpu(string? setting)
    {
        Assert.Equal(Device.Cuda(0), WorkDevice.Resolve(setting, Sees(2)));
        Assert.Equal(Device.Cpu, WorkDevice.Resolve(setting, Sees(0)));
    }

    [Fact]
    public void Cpu_keeps_a_silo_off_its_gpu_without_asking_libtorch()
    {
        Assert.Equal(Device.Cpu, WorkDevice.Resolve("cpu", NotAsked));
    }

    [Theory]
    [InlineData("cuda", 0)]
    [InlineData("cuda:1", 1)]
    [InlineData("CUDA:3", 3)]
    public void A_named_gpu_that_libtorch_sees_is_taken(string setting, int index)
    {
        Assert.Equal(Device.Cuda(index), WorkDevice.Resolve(setting, Sees(4)));
    }

    [Fact]
    public void A_gpu_that_is_not_there_is_refused_with_how_many_are()
    {
        var error = Assert.Throws<InvalidOperationException>(() => WorkDevice.Resolve("cuda:2", Sees(2)));
        Assert.Contains("FuseChat:Gpu:Device is 'cuda:2'", error.Message, StringComparison.Ordinal);
        Assert.Contains("cuda:0 to cuda:1", error.Message, StringComparison.Ordinal);

        var none = Assert.Throws<InvalidOperationException>(() => WorkDevice.Resolve("cuda", Sees(0)));
        Assert.Contains("none", none.Message, StringComparison.Ordinal);
        Assert.Contains("docs/gpu.md", none.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    public void A_malformed_setting_names_the_accepted_values(string setting)
    {
        var error = Assert.Throws<InvalidOperationException>(() => WorkDevice.Resolve(setting, Sees(1)));
        Assert.Contains($"FuseChat:Gpu:Device is '{setting}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("auto, cpu, cuda or cuda:N", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_service_reads_the_options()
    {
        var service = new WorkDevice(Options.Create(new GpuSiloOptions { Device = "cpu" }));
        Assert.Equal(Device.Cpu, service.Current);
    }
}
