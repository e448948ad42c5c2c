using FuseChat.Fusion.Alignment;

namespace FuseChat.Bench.Align;

/// <summary>
/// The peer the bench compares against: plain DTW over the whole n x m matrix, with the same cost
/// (edit distance of the comparison forms, cached per distinct string pair) and the same tie rule as
/// <see cref="DynamicTimeWarping"/> (diagonal, then pivot step, then source step). No pruning.
/// </summary>
internal static class FullMatrixDtw
{
    public static TokenAlignment Align(string[] pivot, string[] source)
    {
        int n = pivot.Length, m = source.Length;
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var p = Intern(pivot, ids);
        var s = Intern(source, ids);
        var strings = new string[ids.Count];
        foreach (var (text, id) in ids)
        {
            strings[id] = text;
        }
        // Cost of each distinct pair, by the order in which each side first saw its strings; -1: not yet.
        var pLocal = Local(p, out var pDistinct);
        var sLocal = Local(s, out var sDistinct);
        var cache = new int[pDistinct * sDistinct];
        Array.Fill(cache, -1);
        var d = new int[n * m];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < m; j++)
            {
                ref var c = ref cache[pLocal[i] * sDistinct + sLocal[j]];
                if (c < 0)
                {
                    var (a, b) = TokenMarkers.ComparisonForms(strings[p[i]], strings[s[j]]);
                    c = p[i] == s[j] ? 0 : EditDistance.Compute(a, b);
                }
                int best;
                if (i == 0)
                {
                    best = j == 0 ? 0 : d[j - 1];
                }
                else if (j == 0)
                {
                    best = d[(i - 1) * m];
                }
                else
                {
                    best = Math.Min(Math.Min(d[(i - 1) * m + j - 1], d[(i - 1) * m + j]), d[i * m + j - 1]);
                }
                d[i * m + j] = best + c;
            }
        }
        var pivots = new List<int>(n + m);
        var sources = new List<int>(n + m);
        int x = n - 1, y = m - 1;
        while (true)
        {
            pivots.Add(x);
            sources.Add(y);
            if (x == 0 && y == 0)
            {
                break;
            }
            if (x == 0)
            {
                y--;
            }
            else if (y == 0)
            {
                x--;
            }
            else
            {
                int diagonal = d[(x - 1) * m + y - 1], up = d[(x - 1) * m + y], left = d[x * m + y - 1];
                if (diagonal <= up && diagonal <= left)
                {
                    x--;
                    y--;
                }
                else if (up <= left)
                {
                    x--;
                }
                else
                {
                    y--;
                }
            }
        }
        pivots.Reverse();
        sources.Reverse();
        return new TokenAlignment(n, m, [.. pivots], [.. sources]) { Cost = d[n * m - 1] };
    }

    private static int[] Intern(string[] tokens, Dictionary<string, int> ids)
    {
        var result = new int[tokens.Length];
        for (var k = 0; k < tokens.Length; k++)
        {
            if (!ids.TryGetValue(tokens[k], out var id))
            {
                id = ids.Count;
                ids.Add(tokens[k], id);
            }
            result[k] = id;
        }
        return result;
    }

    private static int[] Local(int[] ids, out int distinct)
    {
        var map = new Dictionary<int, int>();
        var result = new int[ids.Length];
        for (var k = 0; k < ids.Length; k++)
        {
            if (!map.TryGetValue(ids[k], out var local))
            {
                local = map.Count;
                map.Add(ids[k], local);
            }
            result[k] = local;
        }
        distinct = map.Count;
        return result;
    }
}
