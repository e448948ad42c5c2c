using System.Text.Json;
using FuseChat.Client.Commands;
using FuseChat.Torch;

namespace FuseChat.Client.Tests;

public class InfoCommandTests
{
    [Fact]
    public void Json_names_the_libtorch_version_and_the_devices_it_sees()
    {
        var output = new StringWriter();

        Assert.Equal(0, InfoCommand.Run(asJson: true, output));

        using var facts = JsonDocument.Parse(output.ToString());
        var root = facts.RootElement;
        Assert.Equal(TorchRuntime.Version, root.GetProperty("libtorch").GetString());
        Assert.Matches(@"^\d+\.\d+\.\d+", root.GetProperty("libtorch").GetString());
        Assert.Equal(TorchRuntime.CudaDeviceCount, root.GetProperty("cuda_devices").GetInt32());
        Assert.Equal(TorchRuntime.HasFusedAttention, root.GetProperty("fused_attention").GetBoolean());
        Assert.True(root.GetProperty("intra_op_threads").GetInt32() >= 1);
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("processors").GetInt32());
    }

    [Fact]
    public void The_table_lists_every_setting()
    {
        var output = new StringWriter();

        Assert.Equal(0, InfoCommand.Run(asJson: false, output));

        var text = output.ToString();
        foreach (var name in new[] { "libtorch", "fused attention", "cuda devices", "intra-op threads", "processors" })
            Assert.Contains(name, text, StringComparison.Ordinal);
        Assert.Contains(TorchRuntime.Version, text, StringComparison.Ordinal);
    }
}
