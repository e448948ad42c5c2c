using System.Collections.Concurrent;
using System.Text.Json;
using FuseChat.Fusion.Tokenization;
using FuseChat.Testing.Support;

namespace FuseChat.Fusion.Tests.Tokenization;

/// <summary>
/// One corpus line with Hugging Face's own results for it. OffsetsSpecial are HF's offsets of
/// IdsSpecial as the Node binding reports them: in Unicode scalar values (Rust chars).
/// </summary>
public sealed record HfReference(string Text, int[] Ids, int[] IdsSpecial, (int Start, int End)[] OffsetsSpecial, string Decoded, string DecodedSkip);

/// <summary>
/// Locates the npm fixtures (tokenizer files and HF's Rust tokenizers for Node) and computes
/// reference results at test time, so no reference ids are committed.
/// </summary>
public static class TokenizerFixtures
{
    public static readonly string[] Names = ["llama2", "llama3", "qwen3", "gemma3", "mistral_nemo", "gpt4o"];

    private static readonly ConcurrentDictionary<string, Lazy<HfTokenizer>> Tokenizers = new();
    private static readonly ConcurrentDictionary<string, Lazy<IReadOnlyList<HfReference>>> References = new();

    public static string RepoRoot { get; } = RepositoryRoot.Path;

    public static string FixturesDir => Path.Combine(RepoRoot, "tests", "fixtures");

    public static string CorpusPath => Path.Combine(FixturesDir, "corpus.jsonl");

    public static string ModelDir(string name)
    {
        var dir = Path.Combine(FixturesDir, "npm", "node_modules", "@lenml", $"tokenizer-{name}", "models");
        if (!File.Exists(Path.Combine(dir, "tokenizer.json")))
        {
            Assert.Fail($"Tokenizer fixture '{name}' is missing ({dir}). Run tests/fixtures/fetch-npm.sh first.");
        }

        return dir;
    }

    public static string TokenizerJson(string name) => Path.Combine(ModelDir(name), "tokenizer.json");

    /// <summary>A fresh tokenizer (for tests that add tokens).</summary>
    public static HfTokenizer LoadFresh(string name) => HfTokenizer.Load(ModelDir(name));

    /// <summary>A shared tokenizer; do not mutate.</summary>
    public static HfTokenizer Shared(string name) =>
        Tokenizers.GetOrAdd(name, n => new Lazy<HfTokenizer>(() => LoadFresh(n))).Value;

    public static IReadOnlyList<string> Corpus() =>
        File.ReadAllLines(CorpusPath).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<string>(l)!).ToList();

    public static IReadOnlyList<HfReference> Reference(string name) =>
        References.GetOrAdd(name, n => new Lazy<IReadOnlyList<HfReference>>(() => RunReference(n))).Value;

    /// <summary>HF results for the corpus with any tokenizer.json (e.g. a derived variant).</summary>
    public static IReadOnlyList<HfReference> ReferenceForFile(string tokenizerJson) =>
        References.GetOrAdd(tokenizerJson, p => new Lazy<IReadOnlyList<HfReference>>(() => RunReferenceFile(p))).Value;

    private static List<HfReference> RunReference(string name) => RunReferenceFile(TokenizerJson(name));

    private static List<HfReference> RunReferenceFile(string tokenizerJson)
    {
        if (!Directory.Exists(Path.Combine(FixturesDir, "npm", "node_modules", "@anush008", "tokenizers")))
        {
            Assert.Fail("The Hugging Face reference (@anush008/tokenizers) is missing. Run tests/fixtures/fetch-npm.sh first.");
        }

        var corpus = Corpus();
        var outputs = Support.NodeScript.Run("hf-reference.js", [tokenizerJson], corpus.Select(line => JsonSerializer.Serialize(line)));
        Assert.Equal(corpus.Count, outputs.Length);
        var result = new List<HfReference>(corpus.Count);
        for (var i = 0; i < corpus.Count; i++)
        {
            using var doc = JsonDocument.Parse(outputs[i]);
            var root = doc.RootElement;
            result.Add(new HfReference(
                corpus[i],
                root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                root.GetProperty("idsSpecial").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                root.GetProperty("offsetsSpecial").EnumerateArray().Select(e => (e[0].GetInt32(), e[1].GetInt32())).ToArray(),
                root.GetProperty("decoded").GetString()!,
                root.GetProperty("decodedSkip").GetString()!));
        }

        return result;
    }
}
