using System.CommandLine;
using FuseChat.Fusion.Data;
using FuseChat.Fusion.Evaluation;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tokenization;
using FuseChat.Torch;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat evaluate --model DIR [--model DIR ...] --template NAME [--chats FILE] [--tasks FILE] [--device cuda:0]</c>:
/// perplexity on held-out chats and exact-match accuracy of greedy replies, as a table, JSON and Markdown, with a
/// progress bar over every conversation and task of every model.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model") { Description = "Model folder to evaluate; repeat to compare models.", Required = true };
        var template = new Option<string>("--template") { Description = $"Chat template ({string.Join(", ", ChatTemplates.Names)}).", Required = true };
        var chats = new Option<string?>("--chats") { Description = "Held-out chats (ShareGPT or OpenAI JSONL) for perplexity." };
        var tasks = new Option<string?>("--tasks") { Description = "Task set (JSONL with prompt and answer) for exact-match accuracy." };
        var json = new Option<string?>("--json") { Description = "Write the report as JSON to this file." };
        var markdown = new Option<string?>("--markdown") { Description = "Write the report as a Markdown table to this file." };
        var maxReply = new Option<int>("--max-reply-tokens") { Description = "Most tokens of a greedy reply.", DefaultValueFactory = _ => 64 };
        var device = new Option<string>("--device") { Description = "cpu or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var command = new Command("evaluate", "Perplexity on held-out chats and exact-match accuracy on task sets, for one or more models.")
        {
            models, template, chats, tasks, json, markdown, maxReply, device,
        };
        command.SetAction((parse, cancellation) =>
        {
            try
            {
                var folders = parse.GetValue(models)!;
                var chosenTemplate = ChatTemplates.Get(parse.GetValue(template)!);
                var on = Device.Parse(parse.GetValue(device)!);
                var report = AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("reading the data", maxValue: 1);
                        return Run(folders, chosenTemplate, parse.GetValue(chats), parse.GetValue(tasks), parse.GetValue(maxReply), on, cancellation,
                            (description, done, total) =>
                            {
                                task.MaxValue = Math.Max(1, total);
                                task.Value = done;
                                task.Description = Markup.Escape(description);
                            });
                    });
                Write(report);
                if (parse.GetValue(json) is { } jsonPath) File.WriteAllText(jsonPath, report.ToJson());
                if (parse.GetValue(markdown) is { } mdPath) File.WriteAllText(mdPath, report.ToMarkdown());
                return Task.FromResult(0);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                AnsiConsole.MarkupLine("[yellow]interrupted:[/] no report written; rerun the command to evaluate again");
                return Task.FromResult(130);
            }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or ChatDataFormatException
                                           or TokenizerLoadException or FuseChat.Fusion.Checkpoints.CheckpointFormatException or TorchException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]evaluate failed:[/] {e.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }

    /// <summary>
    /// Evaluates every model folder on <paramref name="device"/>; throws when neither chats nor tasks are given.
    /// <paramref name="progress"/> hears (what is under way, items done, items in all) before each conversation and task.
    /// </summary>
    internal static EvaluationReport Run(IReadOnlyList<string> folders, IChatTemplate template, string? chatsPath, string? tasksPath, int maxReplyTokens,
        Device device, CancellationToken cancellation = default, Action<string, int, int>? progress = null)
    {
        if (chatsPath is null && tasksPath is null) throw new ArgumentException("give --chats, --tasks or both");
        var conversations = chatsPath is null ? null : ChatDataset.Read(chatsPath).Select(r => r.Conversation).ToList();
        var examples = tasksPath is null ? null : TaskSet.Read(tasksPath);
        var perModel = (conversations?.Count ?? 0) + (examples?.Count ?? 0);
        var total = perModel * folders.Count;
        var done = 0;
        var results = new List<ModelEvaluation>();
        foreach (var folder in folders)
        {
            var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
            progress?.Invoke($"{name}: loading", done, total);
            var tokenizer = HfTokenizer.Load(folder);
            var (loaded, config) = PretrainedModel.Load(folder, DType.Float32, device);
            using var model = loaded;
            var evaluator = new Evaluator(model, tokenizer, template, config.EosTokenIds) { MaxReplyTokens = maxReplyTokens };
            var result = new ModelEvaluation { Model = name };
            if (conversations is not null)
            {
                var (perplexity, tokens, count) = evaluator.Perplexity(conversations, () =>
                {
                    cancellation.ThrowIfCancellationRequested();
                    progress?.Invoke($"{name}: perplexity", done++, total);
                });
                result = result with { Perplexity = perplexity, PerplexityTokens = tokens, Conversations = count };
            }
            if (examples is not null)
            {
                var (accuracy, correct) = evaluator.ExactMatch(examples, () =>
                {
                    cancellation.ThrowIfCancellationRequested();
                    progress?.Invoke($"{name}: greedy replies", done++, total);
                });
                result = result with { ExactMatch = accuracy, TaskExamples = examples.Count, TaskCorrect = correct };
            }
            results.Add(result);
            progress?.Invoke($"{name}: done", done, total);
        }
        return new EvaluationReport(results);
    }

    private static void Write(EvaluationReport report)
    {
        var table = new Table().AddColumn("model").AddColumn("perplexity").AddColumn("tokens").AddColumn("exact match").AddColumn("correct");
        foreach (var m in report.Models)
            table.AddRow(Markup.Escape(m.Model), EvaluationReport.Format(m.Perplexity, "F3"), m.PerplexityTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
                m.ExactMatch is null ? "-" : EvaluationReport.Format(m.ExactMatch * 100, "F1") + "%", $"{m.TaskCorrect}/{m.TaskExamples}");
        AnsiConsole.Write(table);
    }
}
