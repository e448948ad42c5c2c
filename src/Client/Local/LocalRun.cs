using System.Text.RegularExpressions;
using FuseChat.Client.Api;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Runs;
using Spectre.Console;

namespace FuseChat.Client.Local;

/// <summary>Starts (or continues) a run on an in-process silo's grains and follows it to its end.</summary>
internal static partial class LocalRun
{
    /// <summary>
    /// The run id <c>fusechat run --local</c> uses when none is given: the spec's name, so that the same command run
    /// again continues the same run. Characters a run id cannot hold become '-'.
    /// </summary>
    /// <param name="specFile">The spec file.</param>
    /// <returns>The id, or null when the spec has no readable name (the start then reports the spec's problems).</returns>
    public static string? DefaultId(string specFile)
    {
        var full = Path.GetFullPath(specFile);
        var spec = RunSpecValidator.Validate(File.ReadAllText(full), Path.GetDirectoryName(full)!).Spec;
        return spec is null ? null : NotAnIdCharacter().Replace(spec.Name, "-");
    }

    /// <summary>Starts run <paramref name="id"/> from <paramref name="specFile"/>, or continues it, and shows its progress until it ends.</summary>
    /// <param name="grains">The silo's grains.</param>
    /// <param name="id">The run id.</param>
    /// <param name="specFile">The spec (YAML); relative paths in it are relative to its folder.</param>
    /// <param name="console">Where progress goes.</param>
    /// <param name="cancellation">Ctrl+C: stops following (the caller stops the silo; the run continues next time).</param>
    /// <param name="headline">Markup printed once the run has started; null for a plain line.</param>
    /// <returns>The run's final status, or null when the spec was rejected (its problems were printed).</returns>
    public static async Task<RunStatus?> StartAndFollowAsync(IGrainFactory grains, string id, string specFile, IAnsiConsole console,
        CancellationToken cancellation, string? headline = null)
    {
        var full = Path.GetFullPath(specFile);
        var run = grains.GetGrain<IFusionRunGrain>(id);
        var existed = (await run.GetEventsAsync(0)).Count > 0;
        var started = await run.StartAsync(await File.ReadAllTextAsync(full, cancellation), Path.GetDirectoryName(full)!);
        if (started.Problems.Count > 0)
        {
            console.MarkupLine($"[red]the spec was rejected ({started.Problems.Count} problems):[/]");
            foreach (var problem in started.Problems) console.MarkupLineInterpolated($"  - {problem}");
            return null;
        }

        await grains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key).AddAsync(id);
        if (headline is not null) console.MarkupLine(headline);
        else if (!existed) console.MarkupLineInterpolated($"started run [green]{id}[/]");
        else if (started.State == RunState.Running) console.MarkupLineInterpolated($"run [green]{id}[/] continues where it stopped");
        else console.MarkupLineInterpolated($"run [green]{id}[/] already ended ({started.State.ToString().ToLowerInvariant()}); pass --id NEW to run the spec again as another run");
        return await RunFollower.FollowAsync(id, run.GetStatusAsync, run.GetEventsAsync, console, cancellation);
    }

    [GeneratedRegex("[^A-Za-z0-9._-]")]
    private static partial Regex NotAnIdCharacter();
}
