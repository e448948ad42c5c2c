using System.Net;
using System.Net.Sockets;
using FuseChat.Client.Api;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Silo;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace FuseChat.Client.Demo;

/// <summary>
/// The main job in miniature: makes a demo workspace (a pivot and two sources with different tokenizers),
/// starts an embedded silo in this process, runs the fusion through the grains (representations,
/// alignment, pairwise fusions, SCE merge, evaluation) with live progress, and prints the evaluation table.
/// </summary>
internal static class FusionDemo
{
    public static async Task<int> RunAsync(string workspace, ulong seed, IAnsiConsole console, CancellationToken cancellation)
    {
        var root = RepositoryRoot();
        var paths = DemoWorkspace.Create(workspace, root, seed, line => console.MarkupLineInterpolated($"[grey]{line}[/]"));
        string[] args =
        [
            "--urls", $"http://127.0.0.1:{FreePort()}",
            "--FuseChat:DataPath", Path.Combine(workspace, "silo"),
            "--FuseChat:SiloPort", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--FuseChat:GatewayPort", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--Logging:LogLevel:Default", "Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime", "Warning",
        ];
        var app = SiloHost.Create(args);
        await using (app.ConfigureAwait(false))
        {
            console.MarkupLine("[grey]starting an embedded silo[/]");
            await app.StartAsync(cancellation);
            var grains = app.Services.GetRequiredService<IGrainFactory>();
            var id = $"demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            var run = grains.GetGrain<IFusionRunGrain>(id);
            var started = await run.StartAsync(await File.ReadAllTextAsync(paths.SpecFile, cancellation), Path.GetDirectoryName(paths.SpecFile)!);
            if (started.Problems.Count > 0)
            {
                foreach (var problem in started.Problems) console.MarkupLineInterpolated($"[red]spec problem:[/] {problem}");
                return 1;
            }
            await grains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key).AddAsync(id);
            console.MarkupLineInterpolated($"run [green]{id}[/]: pivot + 2 sources (Llama-3 and Qwen3 vocabularies) -> SCE merge");
            var final = await RunFollower.FollowAsync(id, run.GetStatusAsync, run.GetEventsAsync, console, cancellation);
            await app.StopAsync(CancellationToken.None);
            return final.State == RunState.Completed ? 0 : 1;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
