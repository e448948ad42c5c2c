using System.Globalization;
using System.Text.Json;
using FuseChat.Fusion.Evaluation;
using FuseChat.Grains.Interfaces.Runs;
using Spectre.Console;

namespace FuseChat.Client.Api;

/// <summary>Shows a run live: one progress bar per stage, the events as they happen, the evaluation table at the end.</summary>
internal static class RunFollower
{
    public static async Task<RunStatus> FollowAsync(string runId, Func<Task<RunStatus>> status, Func<long, Task<IReadOnlyList<RunEvent>>> events,
        IAnsiConsole console, CancellationToken cancellation)
    {
        RunStatus current = await status();
        long after = 0;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var bars = Enum.GetValues<RunStage>().ToDictionary(s => s, s => ctx.AddTask(Describe(s, ""), maxValue: 1));
                while (true)
                {
                    foreach (var e in await events(after))
                    {
                        console.MarkupLineInterpolated($"[grey]{e.Timestamp.ToLocalTime():HH:mm:ss}[/] {e.Message}");
                        after = Math.Max(after, e.Sequence);
                    }
                    current = await status();
                    foreach (var stage in current.Stages)
                    {
                        var bar = bars[stage.Stage];
                        bar.Value = Math.Clamp(stage.Progress, 0, 1);
                        bar.Description = Describe(stage.Stage, stage.Detail);
                    }
                    if (current.State is RunState.Completed or RunState.Failed or RunState.Cancelled) break;
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
                }
            });
        switch (current.State)
        {
            case RunState.Completed:
                console.MarkupLineInterpolated($"run [green]{runId}[/] completed; output in {current.OutputFolder}");
                if (current.EvaluationReportJson is { } json) Write(EvaluationReport.FromJson(json), console);
                break;
            case RunState.Failed:
                console.MarkupLineInterpolated($"run [red]{runId}[/] failed: {current.FailureReason}");
                break;
            default:
                console.MarkupLineInterpolated($"run [yellow]{runId}[/] {current.State.ToString().ToLowerInvariant()}");
                break;
        }
        return current;
    }

    private static string Describe(RunStage stage, string detail) =>
        Markup.Escape($"{stage,-16} {(detail.Length > 60 ? detail[..57] + "..." : detail)}");

    /// <summary>The evaluation table of a finished run.</summary>
    public static void Write(EvaluationReport report, IAnsiConsole console)
    {
        var table = new Table().AddColumn("model").AddColumn("perplexity").AddColumn("tokens").AddColumn("exact match").AddColumn("correct");
        foreach (var m in report.Models)
            table.AddRow(Markup.Escape(m.Model), EvaluationReport.Format(m.Perplexity, "F2"), m.PerplexityTokens.ToString(CultureInfo.InvariantCulture),
                m.ExactMatch is null ? "-" : EvaluationReport.Format(m.ExactMatch * 100, "F1") + "%", $"{m.TaskCorrect}/{m.TaskExamples}");
        console.Write(table);
    }

    /// <summary>Status as indented JSON, for scripts.</summary>
    public static string ToJson(object value) => JsonSerializer.Serialize(value, new JsonSerializerOptions(FuseChat.Silo.Api.RunApi.Json) { WriteIndented = true });
}
