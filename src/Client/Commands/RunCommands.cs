using System.Globalization;
using System.CommandLine;
using FuseChat.Client.Api;
using FuseChat.Client.Local;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// Client verbs against a running silo's HTTP API: <c>run SPEC.yaml [--follow]</c>, <c>follow RUN</c>,
/// <c>status RUN</c>, <c>list</c>, <c>cancel RUN</c>. Server: --server or FUSECHAT_SERVER
/// (default http://127.0.0.1:8080); token: --token or FUSECHAT_API_TOKEN.
/// </summary>
internal static class RunCommands
{
    internal static readonly Option<string?> Server = new("--server") { Description = "Silo HTTP address (default: FUSECHAT_SERVER or http://127.0.0.1:8080)." };
    internal static readonly Option<string?> Token = new("--token") { Description = "API token (default: FUSECHAT_API_TOKEN)." };

    public static IEnumerable<Command> Create()
    {
        var spec = new Argument<string>("spec") { Description = "Run spec (YAML)." };
        var follow = new Option<bool>("--follow") { Description = "Show live progress until the run ends." };
        var id = new Option<string?>("--id") { Description = "Run id (default: the spec's name and the time; with --local, the spec's name)." };
        var local = new Option<bool>("--local") { Description = "Run it in this process on an embedded silo (no server needed) and follow it; run the same command again to continue a stopped run." };
        var dataPath = new Option<string>("--data-path") { Description = "With --local: the embedded silo's folder for run state, artifacts and reminders.", DefaultValueFactory = _ => FuseChat.Silo.FuseChatSiloOptions.DefaultDataPath };
        var run = new Command("run", "Start a fusion run from a spec file, on a silo or (--local) in this process.") { spec, follow, id, local, dataPath, Server, Token };
        run.SetAction((parse, cancellation) => parse.GetValue(local)
            ? RunLocalAsync(parse.GetValue(spec)!, parse.GetValue(id), parse.GetValue(dataPath)!, cancellation)
            : Call(parse, async client =>
        {
            var status = await client.StartAsync(parse.GetValue(spec)!, parse.GetValue(id), cancellation);
            if (status.Problems.Count > 0)
            {
                AnsiConsole.MarkupLine($"[red]the spec was rejected ({status.Problems.Count} problems):[/]");
                foreach (var problem in status.Problems) AnsiConsole.MarkupLineInterpolated($"  - {problem}");
                return 2;
            }
            AnsiConsole.MarkupLineInterpolated($"started run [green]{status.RunId}[/]");
            if (!parse.GetValue(follow)) return 0;
            return Exit(await Follow(client, status.RunId, cancellation));
        }));

        var runId = new Argument<string>("run") { Description = "Run id." };
        var followCommand = new Command("follow", "Show a run's progress live until it ends.") { runId, Server, Token };
        followCommand.SetAction((parse, cancellation) => Call(parse, async client => Exit(await Follow(client, parse.GetValue(runId)!, cancellation))));

        var json = new Option<bool>("--json") { Description = "Print the status as JSON." };
        var showWorkers = new Option<bool>("--workers") { Description = "Also list every worker: state, attempts, the silo it runs on." };
        var status = new Command("status", "Show a run's state, stages and failure reason.") { runId, json, showWorkers, Server, Token };
        status.SetAction((parse, cancellation) => Call(parse, async client =>
        {
            var s = await client.StatusAsync(parse.GetValue(runId)!, cancellation);
            if (parse.GetValue(json))
            {
                Console.WriteLine(RunFollower.ToJson(s));
                return 0;
            }
            AnsiConsole.MarkupLineInterpolated($"run [bold]{s.RunId}[/]: {s.State}{(s.CurrentStage is { } stage ? $" ({stage})" : "")}");
            var table = new Table().AddColumn("stage").AddColumn("progress").AddColumn("detail");
            foreach (var p in s.Stages) table.AddRow(p.Stage.ToString(), $"{p.Progress:P0}", Markup.Escape(p.Detail));
            AnsiConsole.Write(table);
            var workers = parse.GetValue(showWorkers);
            if (workers && s.Workers.Count > 0)
            {
                // Operators: which silo runs what, and how often it had to start again (after a silo loss).
                var units = new Table().AddColumn("worker").AddColumn("stage").AddColumn("state").AddColumn("attempts").AddColumn("silo").AddColumn("detail");
                foreach (var w in s.Workers.OrderBy(w => w.Stage).ThenBy(w => w.Key, StringComparer.Ordinal))
                    units.AddRow(Markup.Escape(w.Key), w.Stage.ToString(), w.Status.State.ToString(), w.Status.Attempts.ToString(CultureInfo.InvariantCulture),
                        Markup.Escape(w.Status.Silo ?? "-"), Markup.Escape(w.Status.Error ?? w.Status.Detail));
                AnsiConsole.Write(units);
            }
            if (s.Waiting is { } waiting) AnsiConsole.MarkupLineInterpolated($"[yellow]waiting:[/] {waiting}");
            if (s.FailureReason is { } reason) AnsiConsole.MarkupLineInterpolated($"[red]failure:[/] {reason}");
            return 0;
        }));

        var list = new Command("list", "List the runs the cluster knows.") { Server, Token };
        list.SetAction((parse, cancellation) => Call(parse, async client =>
        {
            var table = new Table().AddColumn("run").AddColumn("state").AddColumn("stage").AddColumn("failure");
            foreach (var r in await client.ListAsync(cancellation))
                table.AddRow(Markup.Escape(r.Id), r.State.ToString(), r.CurrentStage?.ToString() ?? "-", Markup.Escape(r.FailureReason ?? ""));
            AnsiConsole.Write(table);
            return 0;
        }));

        var cancel = new Command("cancel", "Cancel a run (finished artifacts stay on disk).") { runId, Server, Token };
        cancel.SetAction((parse, cancellation) => Call(parse, async client =>
        {
            var s = await client.CancelAsync(parse.GetValue(runId)!, cancellation);
            AnsiConsole.MarkupLineInterpolated($"run {s.RunId}: {s.State}");
            return 0;
        }));
        return [run, followCommand, status, list, cancel];
    }

    /// <summary>
    /// <c>run SPEC --local</c>: an embedded silo in this process over <paramref name="dataPath"/>, the run followed to
    /// its end. Ctrl+C stops the silo gracefully (training stops at its last checkpoint); the same command continues.
    /// </summary>
    private static async Task<int> RunLocalAsync(string specFile, string? id, string dataPath, CancellationToken cancellation)
    {
        if (!File.Exists(specFile))
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] spec file {specFile} not found");
            return 2;
        }

        var runId = id ?? LocalRun.DefaultId(specFile) ?? "local";
        try
        {
            AnsiConsole.MarkupLineInterpolated($"[grey]starting an embedded silo over {Path.GetFullPath(dataPath)}[/]");
            var silo = await InProcessSilo.StartAsync(dataPath, cancellation);
            await using (silo.ConfigureAwait(false))
            {
                var final = await LocalRun.StartAndFollowAsync(silo.Grains, runId, specFile, AnsiConsole.Console, cancellation);
                return final is null ? 2 : Exit(final);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]stopped;[/] finished work is kept in {Path.GetFullPath(dataPath)} and the run's output folder: run the same command to continue run {runId}");
            return 130;
        }
        catch (Orleans.Runtime.OrleansConfigurationException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 1;
        }
    }

    private static Task<FuseChat.Grains.Interfaces.Runs.RunStatus> Follow(FuseChatApiClient client, string id, CancellationToken cancellation) =>
        RunFollower.FollowAsync(id, () => client.StatusAsync(id, cancellation), after => client.EventsAsync(id, after, cancellation), AnsiConsole.Console, cancellation);

    private static int Exit(FuseChat.Grains.Interfaces.Runs.RunStatus status) =>
        status.State == FuseChat.Grains.Interfaces.Runs.RunState.Completed ? 0 : 1;

    internal static async Task<int> Call(ParseResult parse, Func<FuseChatApiClient, Task<int>> action)
    {
        using var client = new FuseChatApiClient(parse.GetValue(Server), parse.GetValue(Token));
        try
        {
            return await action(client);
        }
        catch (HttpRequestException e)
        {
            // A status code means a silo answered and said no; only an unanswered request asks whether one runs.
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}{(e.StatusCode is null ? $" (is `fusechat silo` running at {client.Server}?)" : "")}");
            return 1;
        }
        catch (ArgumentException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {(e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message)}");
            return 2;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 1;
        }
    }
}
