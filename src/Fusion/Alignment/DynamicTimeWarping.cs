using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
/// <para>Speed, exactly (A*-style pruning, an extension of PrunedDTW, Silva and Batista 2016):
/// <list type="number">
/// <item>A cheap per-cell lower bound lb(i,j) &lt;= cost(i,j) (0 for equal strings, else the largest of 1, the
/// length difference and the number of character buckets present on one side only) feeds a backward DTW over
/// lb: H(i,j) is then a lower bound on the cost of every completion of a path after (i,j).</item>
/// <item>The path that follows the smallest lb + H from (0,0) is a real path: its true cost is an upper bound
/// UB on the optimum (for two tokenizations of one text it is usually the optimum itself).</item>
/// <item>The exact forward pass skips every cell with D + H &gt; UB (without an edit distance when already
/// D_pred + lb + H &gt; UB). Such a cell lies on no path of cost &lt;= UB, so on no optimal path; every cell of an
/// optimal path keeps its exact D, and a pruned predecessor of a path cell can never tie the smallest D, so the
/// backtrack makes the same choices as over the full matrix.</item>
/// </list></para>
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
        var w = DtwWorkspace.Rent(n, m);
        try
        {
            var table = w.Table;
            var p = w.Pivot;
            var s = w.Source;
            for (var i = 0; i < n; i++)
            {
                table.Intern(pivotTokens[i], ref p[i], pivotSide: true);
            }
            for (var j = 0; j < m; j++)
            {
                table.Intern(sourceTokens[j], ref s[j], pivotSide: false);
            }
            table.BeginPair();
            for (var i = 0; i < n; i++)
            {
                w.PClass[i] = p[i].Class;
                w.PLength[i] = p[i].Length;
                w.PMask[i] = p[i].Mask;
            }
            for (var j = 0; j < m; j++)
            {
                var t = m - 1 - j;
                w.RClass[t] = s[j].Class;
                w.RLength[t] = s[j].Length;
                w.RMask[t] = s[j].Mask;
            }
            LowerBounds(w, n, m);
            var bound = UpperBound(table, p.AsSpan(0, n), s.AsSpan(0, m), w.H, w.Base);
            Fill(table, p.AsSpan(0, n), s.AsSpan(0, m), w.D, w.H, w.Base, w.RowLo, w.RowEnd, bound);
            return Backtrack(w.D, w.RowLo, w.RowEnd, n, m);
        }
        finally
        {
            DtwWorkspace.Return(w);
        }
    }

    /// <summary>Lower bound of the edit distance of the comparison forms of two tokens; 0 when unsure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int LowerBound(in DtwToken a, in DtwToken b)
    {
        if (a.Class == b.Class || a.Length == 0 || b.Length == 0)
        {
            // Equal stripped strings cost 0; a bare marker compares in other forms: no claim.
            return 0;
        }
        var onlyA = System.Numerics.BitOperations.PopCount(a.Mask & ~b.Mask);
        var onlyB = System.Numerics.BitOperations.PopCount(b.Mask & ~a.Mask);
        return Math.Max(Math.Max(1, Math.Abs(a.Length - b.Length)), Math.Max(onlyA, onlyB));
    }

    // H(i,j) = lower bound on the summed cost of the cells after (i,j) on any path from (i,j) to (n-1,m-1):
    // the backward DTW over lb, excluding (i,j) itself, stored clamped to ushort (clamping down keeps it a
    // bound) in anti-diagonal order, H(i,j) at h[bases[i+j] + i]. Along an anti-diagonal no cell depends on
    // another, so whole vectors of cells are computed at once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LowerBounds(DtwWorkspace w, int n, int m)
    {
        var h = w.H;
        var bases = w.Base;
        int[] pCls = w.PClass, pLen = w.PLength, rCls = w.RClass, rLen = w.RLength;
        uint[] pMask = w.PMask, rMask = w.RMask;
        var offset = 0;
        for (var k = 0; k < n + m - 1; k++)
        {
            int iLo = Math.Max(0, k - (m - 1)), iHi = Math.Min(n - 1, k);
            bases[k] = offset - iLo;
            offset += iHi - iLo + 1;
        }
        // d2, d1: lb + H of anti-diagonals k+2 and k+1, indexed by i; Infinity just outside their ranges.
        int[] d2 = w.Diag2, d1 = w.Diag1, d0 = w.Diag0;
        d2.AsSpan(0, n + 1).Fill(Infinity);
        d1.AsSpan(0, n + 1).Fill(Infinity);
        d0.AsSpan(0, n + 1).Fill(Infinity);
        var lastK = n + m - 2;
        h[bases[lastK] + n - 1] = 0;
        d0[n - 1] = LowerBoundAt(w, n - 1, 0);
        (d2, d1, d0) = (d1, d0, d2);
        var vectors = Vector256.IsHardwareAccelerated;
        for (var k = lastK - 1; k >= 0; k--)
        {
            int iLo = Math.Max(0, k - (m - 1)), iHi = Math.Min(n - 1, k);
            var tOffset = m - 1 - k; // source position j = k - i sits at reversed index t = i + tOffset
            var hBase = bases[k];
            var i = iLo;
            if (vectors)
            {
                var clampTo = Vector256.Create(65535);
                for (; i + 16 <= iHi + 1; i += 16)
                {
                    var xa = Vector256.Min(Vector256.Min(Vector256.Create(d2.AsSpan(i + 1)), Vector256.Create(d1.AsSpan(i + 1))), Vector256.Create(d1.AsSpan(i)));
                    var xb = Vector256.Min(Vector256.Min(Vector256.Create(d2.AsSpan(i + 9)), Vector256.Create(d1.AsSpan(i + 9))), Vector256.Create(d1.AsSpan(i + 8)));
                    var t = i + tOffset;
                    (xa + LowerBoundVector(pCls, pLen, pMask, rCls, rLen, rMask, i, t)).CopyTo(d0.AsSpan(i));
                    (xb + LowerBoundVector(pCls, pLen, pMask, rCls, rLen, rMask, i + 8, t + 8)).CopyTo(d0.AsSpan(i + 8));
                    Vector256.Narrow(Vector256.Min(xa, clampTo).AsUInt32(), Vector256.Min(xb, clampTo).AsUInt32()).CopyTo(h.AsSpan(hBase + i));
                }
            }
            for (; i <= iHi; i++)
            {
                var x = Math.Min(Math.Min(d2[i + 1], d1[i + 1]), d1[i]);
                h[hBase + i] = Clamp(x);
                d0[i] = x + LowerBoundAt(w, i, i + tOffset);
            }
            if (iLo > 0)
            {
                d0[iLo - 1] = Infinity;
            }
            d0[iHi + 1] = Infinity;
            (d2, d1, d0) = (d1, d0, d2);
        }
    }

    // lb of pivot position i against reversed source index t, from the feature arrays (same as LowerBound).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int LowerBoundAt(DtwWorkspace w, int i, int t)
    {
        if (w.PClass[i] == w.RClass[t] || w.PLength[i] == 0 || w.RLength[t] == 0)
        {
            return 0;
        }
        uint a = w.PMask[i], b = w.RMask[t];
        var onlyA = System.Numerics.BitOperations.PopCount(a & ~b);
        var onlyB = System.Numerics.BitOperations.PopCount(b & ~a);
        return Math.Max(Math.Max(1, Math.Abs(w.PLength[i] - w.RLength[t])), Math.Max(onlyA, onlyB));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> LowerBoundVector(int[] pCls, int[] pLen, uint[] pMask, int[] rCls, int[] rLen, uint[] rMask, int i, int t)
    {
        var pl = Vector256.Create(pLen.AsSpan(i));
        var rl = Vector256.Create(rLen.AsSpan(t));
        var zero = Vector256<int>.Zero;
        var none = Vector256.Equals(Vector256.Create(pCls.AsSpan(i)), Vector256.Create(rCls.AsSpan(t)))
            | Vector256.Equals(pl, zero) | Vector256.Equals(rl, zero);
        var pm = Vector256.Create(pMask.AsSpan(i));
        var rm = Vector256.Create(rMask.AsSpan(t));
        var bag = Vector256.Max(PopCount(Vector256.AndNot(pm, rm)), PopCount(Vector256.AndNot(rm, pm)));
        var lb = Vector256.Max(Vector256.Max(Vector256<int>.One, Vector256.Abs(pl - rl)), bag.AsInt32());
        return Vector256.AndNot(lb, none);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> PopCount(Vector256<uint> x)
    {
        x -= (x >> 1) & Vector256.Create(0x55555555u);
        x = (x & Vector256.Create(0x33333333u)) + ((x >> 2) & Vector256.Create(0x33333333u));
        x = (x + (x >> 4)) & Vector256.Create(0x0F0F0F0Fu);
        return (x * Vector256.Create(0x01010101u)) >> 24;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Clamp(int v) => (ushort)Math.Min(v, ushort.MaxValue);

    // True cost of the path that greedily follows the smallest lower bound lb + H: a real path, hence an
    // upper bound on the optimum. Ties go diagonal, then pivot step, then source step (any order is valid).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int UpperBound(DtwTokenTable table, ReadOnlySpan<DtwToken> p, ReadOnlySpan<DtwToken> s, ushort[] h, int[] bases)
    {
        int n = p.Length, m = s.Length;
        int i = 0, j = 0;
        var total = table.Cost(p[0], s[0]);
        while (i < n - 1 || j < m - 1)
        {
            if (i == n - 1)
            {
                j++;
            }
            else if (j == m - 1)
            {
                i++;
            }
            else
            {
                var diagonal = LowerBound(p[i + 1], s[j + 1]) + h[bases[i + j + 2] + i + 1];
                var down = LowerBound(p[i + 1], s[j]) + h[bases[i + j + 1] + i + 1];
                var right = LowerBound(p[i], s[j + 1]) + h[bases[i + j + 1] + i];
                if (diagonal <= down && diagonal <= right)
                {
                    i++;
                    j++;
                }
                else if (down <= right)
                {
                    i++;
                }
                else
                {
                    j++;
                }
            }
            total += table.Cost(p[i], s[j]);
        }
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fill(DtwTokenTable table, ReadOnlySpan<DtwToken> p, ReadOnlySpan<DtwToken> s, int[] d, ushort[] h, int[] bases, int[] rowLo, int[] rowEnd, int bound)
    {
        int n = p.Length, m = s.Length;
        d[0] = table.Cost(p[0], s[0]);
        var last = 0;
        for (var j = 1; j < m; j++)
        {
            // Row 0 is reached only from the left: once a cell is pruned, so is the rest of the row.
            var best = d[j - 1];
            int hj = h[bases[j]];
            if (best + hj + LowerBound(p[0], s[j]) > bound)
            {
                break;
            }
            var v = best + table.Cost(p[0], s[j]);
            if (v + hj > bound)
            {
                break;
            }
            d[j] = v;
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
                int hj = h[bases[i + j] + i];
                if (best + hj > bound || best + hj + LowerBound(pi, s[j]) > bound)
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
                if (v + hj <= bound)
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
                    if (j >= end)
                    {
                        break;
                    }
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

    private static TokenAlignment Backtrack(int[] d, int[] rowLo, int[] rowEnd, int n, int m)
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
    private static int Get(int[] d, int[] rowLo, int[] rowEnd, int m, int i, int j) =>
        j >= rowLo[i] && j < rowEnd[i] ? d[i * m + j] : Infinity;
}
