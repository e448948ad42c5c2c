using System.Globalization;
using System.Text.Json;
using FuseChat.Fusion.Data;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Templates;

namespace FuseChat.Client.Demo;

/// <summary>
/// Everything a miniature fusion needs, made on the spot: chats about simple facts, a pivot that knows
/// none of them, and two sources with other tokenizers that each know half of them (taught with plain
/// cross entropy), plus the run spec. Fusing both sources into the pivot should let the fused model
/// know more than the pivot or either pairwise target alone.
/// </summary>
internal static class DemoWorkspace
{
    public const string Template = "mistral";

    private static readonly (string Question, string Answer)[] Facts =
    [
        ("What is the capital of France?", "Paris."),
        ("What colour is the sky on a clear day?", "Blue."),
        ("How many legs does a spider have?", "Eight."),
        ("What do bees make?", "Honey."),
        ("Which planet is called the red planet?", "Mars."),
        ("What is two plus three?", "Five."),
        ("What language is spoken in Brazil?", "Portuguese."),
        ("What is frozen water called?", "Ice."),
        ("What is the largest ocean?", "The Pacific."),
        ("How many days are in a week?", "Seven."),
        ("What gas do plants take in?", "Carbon dioxide."),
        ("Who wrote Hamlet?", "Shakespeare."),
        ("What is the capital of Japan?", "Tokyo."),
        ("How many sides does a triangle have?", "Three."),
        ("What animal says moo?", "A cow."),
        ("What is the boiling point of water in Celsius?", "One hundred."),
        ("Which metal is liquid at room temperature?", "Mercury."),
        ("What is the opposite of hot?", "Cold."),
        ("How many hours are in a day?", "Twenty-four."),
        ("What is the capital of Italy?", "Rome."),
    ];

    public sealed record Paths(string Root, string Pivot, string SourceA, string SourceB, string SpecFile, string Output);

    /// <summary>
    /// Creates the workspace under <paramref name="root"/> (replacing an older one). <paramref name="dtype"/> (f32 or
    /// bf16) is the run's representation and training dtype; the models themselves are made in f32.
    /// </summary>
    public static Paths Create(string root, string repositoryRoot, ulong seed, Action<string> say, string dtype = "f32")
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        var npm = DemoTokenizers.Ensure(repositoryRoot, say);
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        var chats = Path.Combine(data, "chats.jsonl");
        File.WriteAllLines(chats, Facts.Select(f => JsonSerializer.Serialize(new
        {
            conversations = new[] { new { from = "human", value = f.Question }, new { from = "gpt", value = f.Answer } },
        })));
        File.WriteAllLines(Path.Combine(data, "tasks.jsonl"), Facts.Select(f => JsonSerializer.Serialize(new { prompt = f.Question, answer = f.Answer })));

        var half = Facts.Length / 2;
        say("making the pivot (Mistral vocabulary, knows none of the facts)");
        var pivot = MakeModel(root, "pivot", DemoTokenizers.Folder(npm, "llama2"), seed, chats, []);
        say($"making source A (Llama-3 vocabulary) and teaching it facts 1-{half}");
        var a = MakeModel(root, "source-a", DemoTokenizers.Folder(npm, "llama3"), seed + 1, chats, Enumerable.Range(0, half));
        say($"making source B (Qwen3 vocabulary) and teaching it facts {half + 1}-{Facts.Length}");
        var b = MakeModel(root, "source-b", DemoTokenizers.Folder(npm, "qwen3"), seed + 2, chats, Enumerable.Range(half, Facts.Length - half));

        var run = Path.Combine(root, "run");
        Directory.CreateDirectory(run);
        var spec = Path.Combine(run, "spec.yaml");
        File.WriteAllText(spec, string.Create(CultureInfo.InvariantCulture, $$"""
            name: demo
            pivot: {path: ../models/pivot, template: {{Template}}}
            sources:
              - {name: source-a, path: ../models/source-a}
              - {name: source-b, path: ../models/source-b}
            data: {train: ../data/chats.jsonl, eval_chats: ../data/chats.jsonl, eval_tasks: ../data/tasks.jsonl}
            representation: {top_k: 10, shard_size: 10, max_batch_tokens: 2048, dtype: {{dtype}}}
            training: {lr: 4.0e-3, epochs: 6, accumulation: 2, warmup: 0.05, checkpoint_every: 10, lambda: 0.5, dtype: {{dtype}}, gradient_checkpointing: true}
            merge: {method: sce, select_topk: 1.0, dtype: float32}
            output: {folder: out}
            """));
        return new Paths(root, pivot, a, b, spec, Path.Combine(run, "out"));
    }

    private static string MakeModel(string root, string name, string tokenizerFolder, ulong seed, string chats, IEnumerable<int> taught)
    {
        var lessons = taught.ToList();
        var all = ChatDataset.Read(chats).Select(r => r.Conversation).ToList();
        return TinyModelFolder.Create(Path.Combine(root, "models", name), tokenizerFolder, seed, hidden: 32, intermediate: 64, layers: 2, heads: 4,
            teach: (model, tokenizer) => TinyModelFolder.Teach(model, tokenizer, ChatTemplates.Get(Template), [.. lessons.Select(i => all[i])],
                steps: 12 * lessons.Count));
    }
}
