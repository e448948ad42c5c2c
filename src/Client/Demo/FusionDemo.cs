using FuseChat.Client.Local;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Torch;
using Spectre.Console;

namespace FuseChat.Client.Demo;

/// <summary>
/// The main job in miniature: makes a demo workspace (a pivot and two sources with different tokenizers),
/// starts an embedded silo in this process, runs the fusion through the grains (representations,
/// alignment, pairwise fusions, SCE merge, evaluation) with live progress, and prints the evaluation table.
/// </summary>
internal static class FusionDemo
{
    public static async Task<int> RunAsync(string workspace, ulong seed, string dtype, IAnsiConsole console, CancellationToken cancellation)
    {
        var root = RepositoryRoot();
        var paths = DemoWorkspace.Create(workspace, root, seed, line => console.MarkupLineInterpolated($"[grey]{line}[/]"), dtype);
        console.MarkupLine("[grey]starting an embedded silo[/]");
        var silo = await InProcessSilo.StartAsync(Path.Combine(workspace, "silo"), cancellation);
        await using (silo.ConfigureAwait(false))
        {
            console.MarkupLineInterpolated($"[grey]libtorch {TorchRuntime.Version}, models on {silo.ModelDevice}, representations and training in {dtype}, training with gradient checkpointing (as the paper)[/]");
            var id = $"demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            var final = await LocalRun.StartAndFollowAsync(silo.Grains, id, paths.SpecFile, console, cancellation,
                $"run [green]{id}[/]: pivot + 2 sources (Llama-3 and Qwen3 vocabularies) -> SCE merge");
            return final is { State: RunState.Completed } ? 0 : 1;
        }
    }

    /// <summary>The checkout (for cached npm tokenizers), found from the program's folder, else the working directory.</summary>
    private static string RepositoryRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = start; dir is not null; dir = Path.GetDirectoryName(dir))
                if (File.Exists(Path.Combine(dir, "FuseChat.Orleans.sln"))) return dir;
        }
        return Environment.CurrentDirectory;
    }
}
