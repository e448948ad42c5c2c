using System.CommandLine;
using System.Globalization;
using FuseChat.Client.Api;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>upload LOCAL ARTIFACT</c> and <c>download ARTIFACT|--run RUN</c>: models, chats and results to and from the
/// silos' artifact store through a silo's HTTP API (<see cref="ArtifactTransfer"/>), with a progress bar; rerunning an
/// interrupted command sends only what is missing.
/// </summary>
internal static class ArtifactCommands
{
    public static IEnumerable<Command> Create()
    {
        var local = new Argument<string>("local") { Description = "A model folder, a chats file, or any file or folder." };
        var target = new Argument<string>("artifact") { Description = "Where it goes in the store, e.g. models/openchat-3.5 (name it in a spec as 'artifact:models/openchat-3.5')." };
        var force = new Option<bool>("--force") { Description = "Upload every file, also those the store has with the same length." };
        var upload = new Command("upload", "Upload a model folder or data file to the silos' artifact store, for specs that name it as artifact:PATH.")
        {
            local, target, force, RunCommands.Server, RunCommands.Token,
        };
        upload.SetAction((parse, cancellation) => RunCommands.Call(parse, async client =>
        {
            var path = parse.GetValue(target)!;
            var summary = await WithProgress("upload", progress =>
                ArtifactTransfer.UploadAsync(client, parse.GetValue(local)!, path, parse.GetValue(force), progress, cancellation));
            AnsiConsole.MarkupLineInterpolated(
                $"uploaded {summary.Transferred} files ({Size(summary.Bytes)}) to [green]artifact:{ArtifactTransfer.Normalize(path)}[/]{(summary.Skipped > 0 ? $"; {summary.Skipped} were there already" : "")}{(summary.Hidden > 0 ? $"; left out {summary.Hidden} hidden files" : "")}");
            if (summary.Extra.Count > 0)
            {
                // Say so rather than delete: the store may hold them on purpose, and runs would pull them all.
                AnsiConsole.MarkupLineInterpolated($"[yellow]warning:[/] the store has {summary.Extra.Count} files there that {parse.GetValue(local)} does not (an earlier upload?); runs pull them too:");
                foreach (var extra in summary.Extra.Take(10)) AnsiConsole.MarkupLineInterpolated($"  {extra}");
                if (summary.Extra.Count > 10) AnsiConsole.MarkupLineInterpolated($"  ... and {summary.Extra.Count - 10} more");
            }

            return 0;
        }));

        var source = new Argument<string?>("artifact") { Description = "A folder or file in the store, e.g. runs/my-run/fused.", Arity = ArgumentArity.ZeroOrOne };
        var run = new Option<string?>("--run") { Description = "Download this run's fused model (runs/RUN/fused)." };
        var output = new Option<string?>("--out") { Description = "Local folder (default: the artifact's last path segment, or RUN-fused with --run)." };
        var download = new Command("download", "Download a folder or file from the silos' artifact store, such as a run's fused model.")
        {
            source, run, output, RunCommands.Server, RunCommands.Token,
        };
        download.SetAction((parse, cancellation) =>
        {
            var runId = parse.GetValue(run);
            var path = parse.GetValue(source);
            if ((path is null) == (runId is null))
            {
                AnsiConsole.MarkupLine("[red]error:[/] name either an artifact path or --run RUN");
                return Task.FromResult(2);
            }

            path ??= $"runs/{runId}/fused";
            var folder = parse.GetValue(output) ?? (runId is not null ? $"{runId}-fused" : path.TrimEnd('/').Split('/')[^1]);
            return RunCommands.Call(parse, async client =>
            {
                try
                {
                    var summary = await WithProgress("download", progress => ArtifactTransfer.DownloadAsync(client, path, folder, progress, cancellation));
                    AnsiConsole.MarkupLineInterpolated(
                        $"downloaded {summary.Transferred} files ({Size(summary.Bytes)}) to [green]{Path.GetFullPath(folder)}[/]{(summary.Skipped > 0 ? $"; {summary.Skipped} were there already" : "")}");
                    return 0;
                }
                catch (FileNotFoundException e) when (runId is not null)
                {
                    // Without the mirror (one shared volume, or an embedded silo) a run's outputs never reach the store.
                    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}; run {runId} may not have finished, or its silos keep outputs in the run's output folder (FuseChat:Storage:MirrorArtifacts off)");
                    return 1;
                }
                catch (FileNotFoundException e)
                {
                    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                    return 1;
                }
            });
        });
        return [upload, download];
    }

    private static async Task<TransferSummary> WithProgress(string verb, Func<IProgress<TransferProgress>, Task<TransferSummary>> transfer)
    {
        TransferSummary? summary = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(verb, maxValue: 1);
                summary = await transfer(new SynchronousProgress<TransferProgress>(p =>
                {
                    task.MaxValue = Math.Max(1, p.BytesTotal);
                    task.Value = p.BytesDone;
                    task.Description = Markup.Escape($"{verb} {Math.Min(p.FilesDone + 1, p.FilesTotal)}/{p.FilesTotal} {p.File.Split('/')[^1]}");
                }));
                task.Value = task.MaxValue;
            });
        return summary!;
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };
}
