using System.Diagnostics;
using System.Globalization;
using FuseChat.Fusion.Alignment;

// DTW alignment speed on realistic pairs: the same words split into pieces two different ways
// (SentencePiece-like and byte-level-like), about 1k tokens a side.
var pairs = 16;
var rounds = 5;
foreach (var a in args)
{
    if (a.StartsWith("--pairs=", StringComparison.Ordinal)) pairs = int.Parse(a[8..], CultureInfo.InvariantCulture);
    if (a.StartsWith("--rounds=", StringComparison.Ordinal)) rounds = int.Parse(a[9..], CultureInfo.InvariantCulture);
}
var rng = new Random(42);
var data = Enumerable.Range(0, pairs).Select(_ => MakePair(rng, 1000)).ToArray();
var cells = data.Average(d => (double)d.Pivot.Length * d.Source.Length);
foreach (var d in data.Take(2)) DynamicTimeWarping.Align(d.Pivot, d.Source); // warm-up (JIT tiers)

double Measure(int threads)
{
    var times = new List<double>();
    for (var r = 0; r < rounds; r++)
    {
        var sw = Stopwatch.StartNew();
        Parallel.For(0, data.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, k => DynamicTimeWarping.Align(data[k].Pivot, data[k].Source));
        times.Add(sw.Elapsed.TotalSeconds);
    }
    times.Sort();
    return times[times.Count / 2];
}

var cores = Environment.ProcessorCount;
var single = Measure(1);
var all = Measure(cores);
// Normalise each pair to 1k x 1k cells.
var scale = 1e6 / cells;
Console.WriteLine($"pairs={pairs} avg_tokens={Math.Sqrt(cells):F0}x{Math.Sqrt(cells):F0} rounds={rounds} (median)");
Console.WriteLine($"single-thread: {pairs / single:F1} pairs/s, {single * 1000 / pairs * scale:F3} ms per 1k x 1k pair per core");
Console.WriteLine($"all {cores} cores: {pairs / all:F1} pairs/s, {all * 1000 / pairs * scale * cores:F3} ms per 1k x 1k pair per core");
Console.WriteLine("goal: <= 1 ms per pair per core");

static (string[] Pivot, string[] Source) MakePair(Random rng, int targetTokens)
{
    var pivot = new List<string>();
    var source = new List<string>();
    while (pivot.Count < targetTokens || source.Count < targetTokens)
    {
        var word = Word(rng);
        // Frequent words stay whole in both vocabularies; longer ones split differently.
        Split(rng, word, "\u2581", pivot, rng.NextDouble() < 0.6);
        Split(rng, word, "\u0120", source, rng.NextDouble() < 0.6);
        if (rng.NextDouble() < 0.1) { pivot.Add(","); source.Add(","); }
    }
    return (pivot.ToArray(), source.ToArray());
}

static void Split(Random rng, string word, string marker, List<string> into, bool whole)
{
    if (whole || word.Length <= 3) { into.Add(marker + word); return; }
    var at = 0;
    while (at < word.Length)
    {
        var len = Math.Min(word.Length - at, rng.Next(2, 6));
        into.Add((at == 0 ? marker : "") + word.Substring(at, len));
        at += len;
    }
}

static string Word(Random rng)
{
    string[] common = ["the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "with", "as", "on", "model", "chat", "fusion"];
    if (rng.NextDouble() < 0.5) return common[rng.Next(common.Length)];
    const string letters = "etaoinshrdlucmfwypvbgkqjxz";
    var len = rng.Next(3, 12);
    var chars = new char[len];
    for (var i = 0; i < len; i++) chars[i] = letters[Math.Min(rng.Next(26), rng.Next(26))];
    return new string(chars);
}
