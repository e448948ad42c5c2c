using System.Buffers;
using System.Runtime.CompilerServices;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Dynamic time warping between a pivot and a source token sequence (METHOD.md stage 2a):
/// cost(i,j) = editdistance(strip(P_i), strip(S_j)), D[i,j] = cost(i,j) + min(D[i-1,j], D[i,j-1], D[i-1,j-1]).
/// </summary>
/// <remarks>
/// <para>Tie-breaking, when backtracking from (n-1, m-1): among the predecessors with the smallest D,
/// prefer the diagonal (i-1, j-1), then (i-1, j) (the pivot advances, one source token covers several pivot
/// tokens), then (i, j-1) (the source advances). The result is therefore a deterministic function of the
/// token strings.</para>
/// <para>Speed: tokens are interned, so equal strings cost 0 without an edit distance. The matrix is
/// computed exactly but pruned (PrunedDTW, Silva and Batista 2016): the cost of a cheap monotone path that
/// follows character offsets is an upper bound UB on the optimum; a cell whose D exceeds UB cannot lie on
/// an optimal path, nor can its predecessors be chosen by the backtrack, so it is skipped and each row only
/// spans the columns still under UB. The optimum, the path and the tie-breaking equal the full computation's.</para>
/// </remarks>
public static class DynamicTimeWarping
{
    private const int Infinity = int.MaxValue / 2;

    /// <summary>
    /// Aligns two token sequences. Tokens are compared stripped of either marker ("▁", "Ġ"); when one of the
    /// two is a bare marker, both are compared unstripped with markers unified. Tokens should already be spelled
    /// in one convention for non-ASCII text (see <see cref="TokenMarkers.Convert"/>).
    /// </summary>
    public static TokenAlignment Align(IReadOnlyList<string> pivotTokens, IReadOnlyList<string> sourceTokens)
    {
        ArgumentNullException.ThrowIfNull(pivotTokens);
        ArgumentNullException.ThrowIfNull(sourceTokens);
        int n = pivotTokens.Count, m = sourceTokens.Count;
        if (n == 0 || m == 0)
        {
            return new TokenAlignment(n, m, [], []);
        }
        var table = new TokenTable(n + m);
        var ids = ArrayPool<int>.Shared.Rent(n + m);
        var rows = ArrayPool<int>.Shared.Rent(2 * n);
        var d = ArrayPool<int>.Shared.Rent(checked(n * m));
        try
        {
            var p = ids.AsSpan(0, n);
            var s = ids.AsSpan(n, m);
            for (var i = 0; i < n; i++)
            {
                p[i] = table.Intern(pivotTokens[i]);
            }
            for (var j = 0; j < m; j++)
            {
                s[j] = table.Intern(sourceTokens[j]);
            }
            table.EnableCache();
            var rowLo = rows.AsSpan(0, n);
            var rowEnd = rows.AsSpan(n, n);
            var bound = UpperBound(table, p, s);
            Fill(table, p, s, d, rowLo, rowEnd, bound);
            return Backtrack(d, rowLo, rowEnd, n, m);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(d);
            ArrayPool<int>.Shared.Return(rows);
            ArrayPool<int>.Shared.Return(ids);
        }
    }

    // Cost of the path that keeps the stripped character offsets of both sides in step: for two
    // tokenizations of one text it is close to the optimum, which makes the pruning tight.
    private static int UpperBound(TokenTable table, ReadOnlySpan<int> p, ReadOnlySpan<int> s)
    {
        int i = 0, j = 0;
        long pEnd = table.Length(p[0]), sEnd = table.Length(s[0]);
        var total = table.Cost(p[0], s[0]);
        while (i < p.Length - 1 || j < s.Length - 1)
        {
            if (i == p.Length - 1 || (j < s.Length - 1 && sEnd < pEnd))
            {
                sEnd += table.Length(s[++j]);
            }
            else if (j == s.Length - 1 || pEnd < sEnd)
            {
                pEnd += table.Length(p[++i]);
            }
            else
            {
                pEnd += table.Length(p[++i]);
                sEnd += table.Length(s[++j]);
            }
            total += table.Cost(p[i], s[j]);
        }
        return total;
    }

    private static void Fill(TokenTable table, ReadOnlySpan<int> p, ReadOnlySpan<int> s, int[] d, Span<int> rowLo, Span<int> rowEnd, int bound)
    {
        int n = p.Length, m = s.Length;
        d[0] = table.Cost(p[0], s[0]);
        var last = 0;
        for (var j = 1; j < m; j++)
        {
            var v = d[j - 1] + table.Cost(p[0], s[j]);
            d[j] = v;
            if (v > bound)
            {
                break;
            }
            last = j;
        }
        rowLo[0] = 0;
        rowEnd[0] = last + 1;
        for (var i = 1; i < n; i++)
        {
            int lo = rowLo[i - 1], end = rowEnd[i - 1];
            int above = (i - 1) * m, here = i * m;
            var pi = p[i];
            int first = -1, good = -1, left = Infinity;
            // Cells left of lo only have pruned predecessors; past end only the left one remains.
            for (var j = lo; j < m; j++)
            {
                var up = j < end ? d[above + j] : Infinity;
                var diagonal = j > lo && j - 1 < end ? d[above + j - 1] : Infinity;
                var best = Math.Min(Math.Min(up, diagonal), left);
                if (best > bound)
                {
                    if (j >= end)
                    {
                        break;
                    }
                    d[here + j] = Infinity;
                    left = Infinity;
                    continue;
                }
                var v = best + table.Cost(pi, s[j]);
                if (v <= bound)
                {
                    d[here + j] = v;
                    left = v;
                    if (first < 0)
                    {
                        first = j;
                    }
                    good = j;
                }
                else
                {
                    d[here + j] = Infinity;
                    left = Infinity;
                }
            }
            if (first < 0)
            {
                throw new InvalidOperationException("DTW pruning removed a whole row; the upper bound was not a path cost.");
            }
            rowLo[i] = first;
            rowEnd[i] = good + 1;
        }
    }

    private static TokenAlignment Backtrack(int[] d, ReadOnlySpan<int> rowLo, ReadOnlySpan<int> rowEnd, int n, int m)
    {
        var pivots = new List<int>(n + m);
        var sources = new List<int>(n + m);
        int i = n - 1, j = m - 1;
        var cost = d[i * m + j];
        while (true)
        {
            pivots.Add(i);
            sources.Add(j);
            if (i == 0 && j == 0)
            {
                break;
            }
            if (i == 0)
            {
                j--;
                continue;
            }
            if (j == 0)
            {
                i--;
                continue;
            }
            // Strict comparisons keep the earlier choice on ties: diagonal, then pivot step, then source step.
            var best = Get(d, rowLo, rowEnd, m, i - 1, j - 1);
            int di = -1, dj = -1;
            var up = Get(d, rowLo, rowEnd, m, i - 1, j);
            if (up < best)
            {
                best = up;
                di = -1;
                dj = 0;
            }
            var left = Get(d, rowLo, rowEnd, m, i, j - 1);
            if (left < best)
            {
                di = 0;
                dj = -1;
            }
            i += di;
            j += dj;
        }
        pivots.Reverse();
        sources.Reverse();
        return new TokenAlignment(n, m, pivots.ToArray(), sources.ToArray()) { Cost = cost };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Get(int[] d, ReadOnlySpan<int> rowLo, ReadOnlySpan<int> rowEnd, int m, int i, int j) =>
        j >= rowLo[i] && j < rowEnd[i] ? d[i * m + j] : Infinity;

    // Distinct token strings of one pair, with their comparison forms precomputed once.
    private sealed class TokenTable(int capacity)
    {
        private readonly Dictionary<string, int> _ids = new(capacity, StringComparer.Ordinal);
        private readonly Dictionary<string, int> _strippedIds = new(capacity, StringComparer.Ordinal);
        private readonly List<string> _unified = new(capacity);
        private readonly List<string> _stripped = new(capacity);
        private readonly List<int> _strippedId = new(capacity);

        public int Intern(string token)
        {
            if (_ids.TryGetValue(token, out var id))
            {
                return id;
            }
            id = _unified.Count;
            _ids.Add(token, id);
            _unified.Add(TokenMarkers.Unify(token));
            var stripped = TokenMarkers.Strip(token);
            _stripped.Add(stripped);
            if (!_strippedIds.TryGetValue(stripped, out var sid))
            {
                sid = _strippedIds.Count;
                _strippedIds.Add(stripped, sid);
            }
            _strippedId.Add(sid);
            return id;
        }

        // Distinct strings repeat a lot (a 1k-token text has a few hundred), so each distinct pair's
        // edit distance is computed once into a dense table; -1 marks "not yet".
        private int[]? _cache;
        private int _stride;

        public int Length(int id) => _stripped[id].Length;

        public void EnableCache()
        {
            var u = _unified.Count;
            if ((long)u * u <= 1 << 22)
            {
                _stride = u;
                _cache = new int[u * u];
                Array.Fill(_cache, -1);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Cost(int a, int b)
        {
            if (a == b)
            {
                return 0;
            }
            var cache = _cache;
            if (cache is null)
            {
                return CostSlow(a, b);
            }
            ref var slot = ref cache[a * _stride + b];
            if (slot < 0)
            {
                slot = CostSlow(a, b);
            }
            return slot;
        }

        private int CostSlow(int a, int b)
        {
            string sa = _stripped[a], sb = _stripped[b];
            if (sa.Length == 0 || sb.Length == 0)
            {
                return EditDistance.Compute(_unified[a].AsSpan(), _unified[b].AsSpan());
            }
            return _strippedId[a] == _strippedId[b] ? 0 : EditDistance.Compute(sa.AsSpan(), sb.AsSpan());
        }
    }
}
