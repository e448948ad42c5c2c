using System.Text.Json;
using FuseChat.Client.Commands;
using FuseChat.Fusion.Templates;
using FuseChat.Torch;

namespace FuseChat.Client.Tests;

public sealed class EvaluateCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fusechat-evaluate-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string MakeModel(string name, ulong seed) => TinyMistralFolder.Create(Path.Combine(_root, name), seed);

    private string Write(string name, params object[] records)
    {
        var path = Path.Combine(_root, name);
        File.WriteAllLines(path, records.Select(r => JsonSerializer.Serialize(r)));
        return path;
    }

    [Fact]
    public void Every_model_is_scored_and_the_progress_counts_each_conversation_and_task_once()
    {
        var models = new[] { MakeModel("first", 1), MakeModel("second", 2) };
        var chats = Write("chats.jsonl",
            new { conversations = new[] { new { from = "human", value = "Hi" }, new { from = "gpt", value = "Hello there." } } },
            new { conversations = new[] { new { from = "human", value = "Capital of France?" }, new { from = "gpt", value = "Paris." } } },
            new { conversations = new[] { new { from = "human", value = "Two plus two?" }, new { from = "gpt", value = "Four." } } });
        var tasks = Write("tasks.jsonl", new { prompt = "Say yes.", answer = "yes" }, new { prompt = "Say no.", answer = "no" });
        var reports = new List<(string What, int Done, int Total)>();

        var report = EvaluateCommand.Run(models, ChatTemplates.Get("mistral"), chats, tasks, maxReplyTokens: 4, Device.Cpu,
            progress: (what, done, total) => reports.Add((what, done, total)));

        Assert.Equal(["first", "second"], report.Models.Select(m => m.Model));
        Assert.All(report.Models, m =>
        {
            Assert.True(m.Perplexity is > 1 and < 1e6, $"perplexity {m.Perplexity}");
            Assert.Equal(3, m.Conversations);
            Assert.Equal(2, m.TaskExamples);
        });
        Assert.All(reports, r => Assert.Equal(10, r.Total));
        Assert.Equal(Enumerable.Range(0, 10), reports.Where(r => r.What.EndsWith("perplexity", StringComparison.Ordinal) || r.What.EndsWith("replies", StringComparison.Ordinal)).Select(r => r.Done));
        Assert.Equal(("second: done", 10), (reports[^1].What, reports[^1].Done));
    }

    [Fact]
    public void A_cancelled_evaluation_stops_between_conversations()
    {
        var model = MakeModel("only", 3);
        var chats = Write("chats.jsonl",
            new { conversations = new[] { new { from = "human", value = "Hi" }, new { from = "gpt", value = "Hello." } } },
            new { conversations = new[] { new { from = "human", value = "Bye" }, new { from = "gpt", value = "Goodbye." } } });
        using var cancel = new CancellationTokenSource();
        var seen = 0;

        Assert.ThrowsAny<OperationCanceledException>(() => EvaluateCommand.Run([model], ChatTemplates.Get("mistral"), chats, null, 4, Device.Cpu, cancel.Token,
            (what, _, _) =>
            {
                if (what.EndsWith("perplexity", StringComparison.Ordinal) && ++seen == 1) cancel.Cancel();
            }));
        Assert.Equal(1, seen);
    }
}
