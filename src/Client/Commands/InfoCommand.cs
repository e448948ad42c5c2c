using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FuseChat.Torch;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat info [--json]</c>: what this machine offers (libtorch version, devices, threads), as a table or, for
/// scripts and readiness checks, as one JSON object.
/// </summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the table." };
        var command = new Command("info", "Show the libtorch build, devices and thread settings this process uses.") { json };
        command.SetAction(parse => Run(parse.GetValue(json), Console.Out));
        return command;
    }

    /// <summary>Writes the facts to <paramref name="output"/>: JSON when <paramref name="asJson"/>, else a table.</summary>
    public static int Run(bool asJson, TextWriter output)
    {
        var facts = new (string Name, string Key, object Value)[]
        {
            ("libtorch", "libtorch", TorchRuntime.Version),
            ("fused attention", "fused_attention", TorchRuntime.HasFusedAttention),
            ("cuda devices", "cuda_devices", TorchRuntime.CudaDeviceCount),
            ("intra-op threads", "intra_op_threads", TorchRuntime.Threads),
            ("processors", "processors", Environment.ProcessorCount),
        };
        if (asJson)
        {
            output.WriteLine(JsonSerializer.Serialize(facts.ToDictionary(f => f.Key, f => f.Value)));
            return 0;
        }

        var table = new Table().AddColumn("setting").AddColumn("value");
        foreach (var (name, _, value) in facts)
        {
            table.AddRow(name, value switch
            {
                true => "yes",
                false => "no (composed)",
                IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "",
            });
        }

        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }).Write(table);
        return 0;
    }
}
