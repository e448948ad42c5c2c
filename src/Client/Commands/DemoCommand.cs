using System.CommandLine;
using FuseChat.Client.Demo;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat demo</c>: trains a tiny Llama-style model on a built-in text and shows the loss falling.
/// It proves the whole stack (native shim, autograd, AdamW, schedule) on any machine in about a minute.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var steps = new Option<int>("--steps") { Description = "Optimiser steps to train.", DefaultValueFactory = _ => 300 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (same seed, same losses).", DefaultValueFactory = _ => 42 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = keep libtorch's default).", DefaultValueFactory = _ => 0 };
        var command = new Command("demo", "Train a tiny Llama-style model on a built-in text and print the loss falling.")
        {
            steps, seed, threads,
        };
        command.SetAction(parse =>
        {
            var options = new TinyTrainingDemo.Options(parse.GetValue(steps), parse.GetValue(seed), parse.GetValue(threads));
            try
            {
                return TinyTrainingDemo.Run(options, AnsiConsole.Console);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or FuseChat.Torch.TorchException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]demo failed:[/] {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
