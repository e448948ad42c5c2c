// Single-threaded encode throughput of our HfTokenizer on the test corpus repeated to a target size.
// Usage: FuseChat.Bench.Tokenize TOKENIZER_DIR CORPUS_JSONL [TARGET_BYTES] [RUNS] [repeat|unique]
// "unique" prefixes every line with its run and repetition number, so no run can hit whole-line caches.
// Prints one line per run and a final "median_tokens_per_s=N".
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FuseChat.Fusion.Tokenization;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: FuseChat.Bench.Tokenize TOKENIZER_DIR CORPUS_JSONL [TARGET_BYTES] [RUNS]");
    return 2;
}

var targetBytes = args.Length > 2 ? long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1_500_000;
var runs = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 5;
var unique = args.Length > 4 && args[4] == "unique";

var load = Stopwatch.StartNew();
var tokenizer = HfTokenizer.Load(args[0]);
load.Stop();

var corpus = File.ReadAllLines(args[1]).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<string>(l)!).ToList();
List<string> BuildLines(int run)
{
    var result = new List<string>();
    long total = 0;
    for (var rep = 0; total < targetBytes; rep++)
    {
        foreach (var original in corpus)
        {
            var line = unique ? $"{run}.{rep}: {original}" : original;
            result.Add(line);
            total += Encoding.UTF8.GetByteCount(line);
        }
    }

    return result;
}

var lines = BuildLines(-1);
var bytes = lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l));
Console.WriteLine($"load_ms={load.ElapsedMilliseconds} lines={lines.Count} bytes={bytes}");
var output = new List<int>(4096);
var rates = new List<double>();
for (var run = -1; run < runs; run++)
{
    if (unique)
    {
        lines = BuildLines(run);
    }

    long tokens = 0;
    var sw = Stopwatch.StartNew();
    foreach (var line in lines)
    {
        output.Clear();
        tokenizer.Encode(line, addSpecialTokens: false, output);
        tokens += output.Count;
    }

    sw.Stop();
    var rate = tokens / sw.Elapsed.TotalSeconds;
    if (run >= 0)
    {
        // Run -1 warms up the JIT and the word cache, as the reference's first pass does for its cache.
        rates.Add(rate);
    }

    Console.WriteLine($"run={run} tokens={tokens} seconds={sw.Elapsed.TotalSeconds:F3} tokens_per_s={rate:F0}");
}

rates.Sort();
Console.WriteLine($"median_tokens_per_s={rates[rates.Count / 2]:F0}");
return 0;
