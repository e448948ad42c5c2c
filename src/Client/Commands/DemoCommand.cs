using System.CommandLine;
using FuseChat.Client.Demo;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat demo</c>: a whole fusion in miniature through the grains of an embedded silo (see
/// <see cref="FusionDemo"/>). <c>fusechat demo-train</c>: trains a tiny Llama-style model on a built-in
/// text and shows the loss falling — the native stack alone, in seconds.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var workspace = new Option<string>("--workspace") { Description = "Folder for the demo's models, data and run (replaced).", DefaultValueFactory = _ => Path.Combine(".artifacts", "demo", "workspace") };
        var seed = new Option<ulong>("--seed") { Description = "Random seed of the demo models.", DefaultValueFactory = _ => 7 };
        var dtype = new Option<string>("--dtype")
        {
            Description = "Dtype of the representations and the fusion training: f32, or bf16 (fp32 master weights; what GPU runs use).",
            DefaultValueFactory = _ => "f32",
        };
        dtype.AcceptOnlyFromAmong("f32", "bf16");
        var command = new Command("demo", "Run a tiny fusion (pivot + two sources with different tokenizers) through an embedded silo and print the evaluation table.")
        {
            workspace, seed, dtype,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            try
            {
                return await FusionDemo.RunAsync(Path.GetFullPath(parse.GetValue(workspace)!), parse.GetValue(seed), parse.GetValue(dtype)!, AnsiConsole.Console, cancellation);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or FuseChat.Torch.TorchException or Orleans.Runtime.OrleansConfigurationException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]demo failed:[/] {e.Message}");
                return 1;
            }
        });
        return command;
    }

    public static Command CreateTraining()
    {
        var steps = new Option<int>("--steps") { Description = "Optimiser steps to train.", DefaultValueFactory = _ => 300 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (same seed, same losses).", DefaultValueFactory = _ => 42 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = keep libtorch's default).", DefaultValueFactory = _ => 0 };
        var command = new Command("demo-train", "Train a tiny Llama-style model on a built-in text and print the loss falling.")
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
