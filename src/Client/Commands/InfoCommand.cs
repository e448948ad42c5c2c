using System.CommandLine;
using FuseChat.Torch;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary><c>fusechat info</c>: what this machine offers (libtorch version, devices, threads).</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show the libtorch build, devices and thread settings this process uses.");
        command.SetAction(_ =>
        {
            var table = new Table().AddColumn("setting").AddColumn("value");
            table.AddRow("libtorch", TorchRuntime.Version);
            table.AddRow("fused attention", TorchRuntime.HasFusedAttention ? "yes" : "no (composed)");
            table.AddRow("cuda devices", TorchRuntime.CudaDeviceCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("intra-op threads", TorchRuntime.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("processors", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
