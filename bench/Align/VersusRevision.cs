using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using FuseChat.Fusion.Alignment;

namespace FuseChat.Bench.Align;

/// <summary>
/// The DTW of this build against the DTW of another build of FuseChat.Fusion (another revision), both loaded in
/// one process and timed on the same windows, one right after the other window by window, each by the product's path (token ids through a
/// CorpusAligner per tokenizer pair). The shared machines drift by tens of percent
/// within minutes; two separate runs cannot tell a 10% change from that drift, paired rounds can. Prints, per kind
/// of window, the median time of each and the median of the per-round ratios, and whether every alignment is
/// identical between the two.
/// </summary>
internal static class VersusRevision
{
    /// <summary>Times this build's product path (<paramref name="current"/>) against the other build's, loaded from
    /// <paramref name="otherFolder"/> with the same tokenizers (<paramref name="tokenizerFolders"/>, pivot and source
    /// per pair).</summary>
    public static int Run(BenchWindow[] data, int stressFrom, Func<BenchWindow, TokenAlignment> current,
        (string Pivot, string Source)[] tokenizerFolders, string otherFolder, string otherName, int rounds)
    {
        var other = Load(otherFolder, tokenizerFolders);
        // Results must not change with speed work: same cost and tie-broken path for every window.
        var identical = true;
        foreach (var w in data)
        {
            var a = current(w);
            var b = other.Align(w);
            identical &= a.Cost == (int)b.GetType().GetProperty("Cost")!.GetValue(b)!
                && a.PathPivots.SequenceEqual((int[])b.GetType().GetProperty("PathPivots")!.GetValue(b)!)
                && a.PathSources.SequenceEqual((int[])b.GetType().GetProperty("PathSources")!.GetValue(b)!);
        }
        Console.WriteLine($"this build versus {otherName}: {data.Length} windows by token ids through CorpusAligner.AlignOne, {rounds} paired rounds, " +
            "caches cleared each round (cold), single thread");
        var kinds = new (string Name, BenchWindow[] Part)[] { ("prose", data[..stressFrom]), ("stress", data[stressFrom..]), ("all", data) };
        foreach (var (name, part) in kinds.Where(k => k.Part.Length > 0))
        {
            var scale = 1e6 / part.Average(d => (double)d.Pivot.Length * d.Source.Length);
            // One round: both builds' caches cleared, then every window by both, one right after the other (which
            // goes first alternates by window and round), so that drift over the round hits both alike.
            (double Mine, double Theirs) Round(int round)
            {
                DtwCostCache.Clear();
                other.Clear();
                long mineTicks = 0, theirTicks = 0;
                for (var k = 0; k < part.Length; k++)
                {
                    var w = part[k];
                    if ((k + round) % 2 == 0)
                    {
                        mineTicks += Time(current, w);
                        theirTicks += Time(other.Align, w);
                    }
                    else
                    {
                        theirTicks += Time(other.Align, w);
                        mineTicks += Time(current, w);
                    }
                }
                double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency / part.Length * scale;
                return (Ms(mineTicks), Ms(theirTicks));
            }
            // Warm both (JIT tiers) before timing.
            Round(0);
            Round(1);
            var mine = new List<double>();
            var theirs = new List<double>();
            var ratios = new List<double>();
            for (var r = 0; r < rounds; r++)
            {
                var (a, b) = Round(r);
                mine.Add(a);
                theirs.Add(b);
                ratios.Add(a / b);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name} ({part.Length}): this build {Median(mine):F3} ms, {otherName} {Median(theirs):F3} ms per 1k x 1k pair; ratio(this/{otherName})={Median(ratios):F3}"));
        }
        Console.WriteLine($"identical={(identical ? "yes" : "no")}");
        return identical ? 0 : 1;
    }

    private static long Time(Func<BenchWindow, object> align, BenchWindow w)
    {
        var start = Stopwatch.GetTimestamp();
        align(w);
        return Stopwatch.GetTimestamp() - start;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    // The other build's CorpusAligner per tokenizer pair, over its own HfTokenizer and TokenizerVocabulary, all by
    // reflection (its types are not this build's).
    private static (Func<BenchWindow, object> Align, Action Clear) Load(string folder, (string Pivot, string Source)[] tokenizerFolders)
    {
        var context = new FolderContext(Path.GetFullPath(folder));
        var fusion = context.LoadFromAssemblyPath(Path.Combine(Path.GetFullPath(folder), "FuseChat.Fusion.dll"));
        var tokenizerType = fusion.GetType("FuseChat.Fusion.Tokenization.HfTokenizer", throwOnError: true)!;
        var load = tokenizerType.GetMethod("Load", BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(string)])!;
        var vocabularyType = fusion.GetType("FuseChat.Fusion.Alignment.TokenizerVocabulary", throwOnError: true)!;
        var alignerType = fusion.GetType("FuseChat.Fusion.Alignment.CorpusAligner", throwOnError: true)!;
        var alignOne = alignerType.GetMethod("AlignOne", [typeof(int[]), typeof(int[])])
            ?? throw new InvalidOperationException("The other revision has no CorpusAligner.AlignOne(int[], int[]); compare with a later one.");
        var tokenizers = new Dictionary<string, object>();
        object Vocabulary(string path) =>
            Activator.CreateInstance(vocabularyType, tokenizers.TryGetValue(path, out var t) ? t : tokenizers[path] = load.Invoke(null, [path, null])!)!;
        var aligners = tokenizerFolders.Select(f => alignerType.GetConstructors().Single().Invoke([Vocabulary(f.Pivot), Vocabulary(f.Source), 1])).ToArray();
        var alignOnes = aligners.Select(a => alignOne.CreateDelegate<Func<int[], int[], object>>(a)).ToArray();
        var clear = fusion.GetType("FuseChat.Fusion.Alignment.DtwCostCache", throwOnError: true)!.GetMethod("Clear")!;
        return (w => alignOnes[w.Combo](w.PivotIds, w.SourceIds), clear.CreateDelegate<Action>());
    }

    // The other build's FuseChat assemblies from its folder; everything else (the runtime) is shared.
    private sealed class FolderContext(string folder) : AssemblyLoadContext(isCollectible: false)
    {
        protected override Assembly? Load(AssemblyName name)
        {
            var path = Path.Combine(folder, name.Name + ".dll");
            return name.Name!.StartsWith("FuseChat.", StringComparison.Ordinal) && File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
