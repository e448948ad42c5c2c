using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using FuseChat.Fusion.Alignment;

namespace FuseChat.Bench.Align;

/// <summary>
/// The DTW of this build against the DTW of another build of FuseChat.Fusion (another revision), both loaded in
/// one process and timed in alternating rounds on the same windows. The shared machines drift by tens of percent
/// within minutes; two separate runs cannot tell a 10% change from that drift, paired rounds can. Prints, per kind
/// of window, the median time of each and the median of the per-round ratios, and whether every alignment is
/// identical between the two.
/// </summary>
internal static class VersusRevision
{
    public static int Run((string[] Pivot, string[] Source)[] data, int stressFrom, string otherFolder, string otherName, int rounds)
    {
        var other = Load(otherFolder);
        Func<IReadOnlyList<string>, IReadOnlyList<string>, TokenAlignment> current = DynamicTimeWarping.Align;
        // Results must not change with speed work: same cost and tie-broken path for every window.
        var identical = true;
        foreach (var (pivot, source) in data)
        {
            var a = current(pivot, source);
            var b = other.Align(pivot, source);
            identical &= a.Cost == (int)b.GetType().GetProperty("Cost")!.GetValue(b)!
                && a.PathPivots.SequenceEqual((int[])b.GetType().GetProperty("PathPivots")!.GetValue(b)!)
                && a.PathSources.SequenceEqual((int[])b.GetType().GetProperty("PathSources")!.GetValue(b)!);
        }
        Console.WriteLine($"this build versus {otherName}: {data.Length} windows, {rounds} paired rounds, caches cleared each round (cold), single thread");
        var kinds = new (string Name, (string[] Pivot, string[] Source)[] Part)[] { ("prose", data[..stressFrom]), ("stress", data[stressFrom..]), ("all", data) };
        foreach (var (name, part) in kinds.Where(k => k.Part.Length > 0))
        {
            var scale = 1e6 / part.Average(d => (double)d.Pivot.Length * d.Source.Length);
            double Round(Action clear, Func<IReadOnlyList<string>, IReadOnlyList<string>, object> align)
            {
                clear();
                var sw = Stopwatch.StartNew();
                foreach (var (pivot, source) in part)
                {
                    align(pivot, source);
                }
                return sw.Elapsed.TotalMilliseconds / part.Length * scale;
            }
            // Warm both (JIT tiers) before timing.
            for (var w = 0; w < 2; w++)
            {
                Round(DtwCostCache.Clear, current);
                Round(other.Clear, other.Align);
            }
            var mine = new List<double>();
            var theirs = new List<double>();
            var ratios = new List<double>();
            for (var r = 0; r < rounds; r++)
            {
                // Alternate which goes first, so that neither always runs on the warmer caches.
                double a, b;
                if (r % 2 == 0)
                {
                    a = Round(DtwCostCache.Clear, current);
                    b = Round(other.Clear, other.Align);
                }
                else
                {
                    b = Round(other.Clear, other.Align);
                    a = Round(DtwCostCache.Clear, current);
                }
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

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static (Func<IReadOnlyList<string>, IReadOnlyList<string>, object> Align, Action Clear) Load(string folder)
    {
        var context = new FolderContext(Path.GetFullPath(folder));
        var fusion = context.LoadFromAssemblyPath(Path.Combine(Path.GetFullPath(folder), "FuseChat.Fusion.dll"));
        var align = fusion.GetType("FuseChat.Fusion.Alignment.DynamicTimeWarping", throwOnError: true)!
            .GetMethod("Align", BindingFlags.Public | BindingFlags.Static, [typeof(IReadOnlyList<string>), typeof(IReadOnlyList<string>)])!;
        var clear = fusion.GetType("FuseChat.Fusion.Alignment.DtwCostCache", throwOnError: true)!.GetMethod("Clear")!;
        return (align.CreateDelegate<Func<IReadOnlyList<string>, IReadOnlyList<string>, object>>(), clear.CreateDelegate<Action>());
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
