using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
/// <para>Speed, exactly (pruned DTW with a lower and an upper bound, as in PrunedDTW, Silva and Batista 2016, and
/// A* search):
/// <list type="number">
/// <item>A lower bound H(i, j) of the cheapest cost from (i, j) to the end, for every cell: the exact DTW, filled
/// backwards, under a cheap lower bound of each cell's cost (0 for equal tokens, else the longer length less the
/// most characters an edit script can match, at least 1); vectorised a strip of rows at a time
/// (<see cref="SuffixLowerBound"/>). Pairs too large for its table (2^24 slots, about 4k x 4k tokens) skip it
/// (bound 0).</item>
/// <item>An upper bound UB: the cost of the best path in a narrow band around the path that follows the smallest
/// H (the cheapest path under the lower-bound costs, usually close to an optimal one). Any real path's cost is a
/// valid UB; without H, the band follows the two sequences' character offsets.</item>
/// <item>The exact pass fills the matrix row by row, only over the columns still reachable, and keeps a cell only
/// when D(i, j) + Rest(i, j) &lt;= UB, Rest being the smallest H of its successors. Rest is consistent (it drops by
/// at most the cost of a step, since H is an exact DTW under costs that never exceed the real ones), so pruned
/// cells are on no path of cost &lt;= UB and kept cells hold their exact D; the optimal paths satisfy
/// D + Rest &lt;= OPT &lt;= UB and are all kept. A cell's cost is looked up only when D before it plus H(i, j) stays
/// within UB.</item>
/// <item>On the backtracked optimal path every cell has D &lt;= UB, so its smallest predecessor is kept and exact,
/// while a pruned one has true D &gt; UB: it can neither win nor tie, and the tie rule above makes the same choices
/// as over the full matrix.</item>
/// </list>
/// Only the kept cells are stored (per row: first column, end column, offset), so memory is O(cells kept) besides
/// H's 2 bytes per cell. A cell's cost is one byte load from a dense per-pair table over the distinct (pivot
/// string, source string) pairs, started with the costs known without an edit distance (equal forms, and forms that
/// share no character: the longer length; <see cref="DtwKnownCosts"/>) and otherwise filled lazily: an edit distance
/// is computed only for cells the pass reaches, not at all when a cheap lower bound already puts the cell above UB,
/// and by Myers' bit-parallel algorithm with the pivot token's match masks built once per row. Token strings and
/// their comparison forms are interned once per process (<see cref="DtwCostCache"/>).</para>
/// </remarks>
public static class DynamicTimeWarping
{
    private const int Infinity = int.MaxValue / 2;

    // Half-width of the band that gives the upper bound. Wider costs more cells and rarely lowers UB further
    // on real pairs; any value keeps the result exact.
    private const int BandRadius = 8;

    /// <summary>
    /// Aligns two token sequences. Tokens are compared stripped of either marker ("▁", "Ġ"); when one of the
    /// two is a bare marker, both are compared unstripped with markers unified. Tokens should already be spelled
    /// in one convention for non-ASCII text (see <see cref="TokenMarkers.Convert"/>).
    /// </summary>
    public static TokenAlignment Align(IReadOnlyList<string> pivotTokens, IReadOnlyList<string> sourceTokens) =>
        Align(pivotTokens, sourceTokens, SuffixBoundLimit);

    /// <summary>As <see cref="Align(IReadOnlyList{string}, IReadOnlyList{string})"/>, with the suffix bound H only
    /// for pairs whose bound table takes at most <paramref name="suffixBoundLimit"/> 16-bit slots (tests cover both
    /// ways with it).</summary>
    internal static TokenAlignment Align(IReadOnlyList<string> pivotTokens, IReadOnlyList<string> sourceTokens, long suffixBoundLimit)
    {
        ArgumentNullException.ThrowIfNull(pivotTokens);
        ArgumentNullException.ThrowIfNull(sourceTokens);
        // One registry generation for the whole pair: its tokens' ids must be comparable.
        var registry = DtwTokenRegistry.Current;
        return Align(registry, new RegistryTokens(registry, pivotTokens), new RegistryTokens(registry, sourceTokens), suffixBoundLimit);
    }

    /// <summary>
    /// As <see cref="Align(IReadOnlyList{string}, IReadOnlyList{string})"/>, for tokens of
    /// <paramref name="registry"/> (every token must come from it): what <see cref="CorpusAligner"/> uses, with the
    /// tokens of each vocabulary id kept between conversations, so that no token string is hashed per position.
    /// </summary>
    internal static TokenAlignment Align<TPivot, TSource>(DtwTokenRegistry registry, TPivot pivotTokens, TSource sourceTokens)
        where TPivot : struct, IDtwTokenSequence
        where TSource : struct, IDtwTokenSequence =>
        Align(registry, pivotTokens, sourceTokens, SuffixBoundLimit);

    private static TokenAlignment Align<TPivot, TSource>(DtwTokenRegistry registry, TPivot pivotTokens, TSource sourceTokens, long suffixBoundLimit)
        where TPivot : struct, IDtwTokenSequence
        where TSource : struct, IDtwTokenSequence
    {
        int n = pivotTokens.Count, m = sourceTokens.Count;
        if (n == 0 || m == 0)
        {
            return new TokenAlignment(n, m, [], []);
        }
        var w = DtwWorkspace.Rent(n, m);
        try
        {
            // Each token straight into the pair's table: no intermediate array of tokens.
            var table = w.Table;
            table.Begin(registry);
            for (var i = 0; i < n; i++)
            {
                pivotTokens.Prefetch(i + PrefetchDistance);
                w.PLocal[i] = table.InternPivot(pivotTokens[i]);
            }
            for (var j = 0; j < m; j++)
            {
                sourceTokens.Prefetch(j + PrefetchDistance);
                w.SLocal[j] = table.InternSource(sourceTokens[j]);
            }
            return AlignInterned(w, n, m, suffixBoundLimit);
        }
        finally
        {
            DtwWorkspace.Return(w);
        }
    }

    // How many positions ahead the interning loop prefetches.
    private const int PrefetchDistance = 8;

    // Token strings looked up (or added) in a registry, position by position.
    private readonly struct RegistryTokens(DtwTokenRegistry registry, IReadOnlyList<string> tokens) : IDtwTokenSequence
    {
        public int Count => tokens.Count;

        public void Prefetch(int k)
        {
        }

        public DtwToken this[int k] => registry.Get(tokens[k]);
    }

    // The DTW once both sides are interned in the workspace's table (PLocal, SLocal).
    private static TokenAlignment AlignInterned(DtwWorkspace w, int n, int m, long suffixBoundLimit)
    {
        var table = w.Table;
        table.BeginCosts();
        // Flat per-position keys keep the inner loops to one byte load per cell: the dense entry at
        // PKey[i] + SKey[j]. Without a dense table every key is 0 and entry 0 stays empty: always a miss.
        var stride = table.IsDense ? table.Stride : 0;
        for (var i = 0; i < n; i++)
        {
            w.PKey[i] = w.PLocal[i] * stride;
        }
        for (var j = 0; j < m; j++)
        {
            w.SKey[j] = table.IsDense ? w.SLocal[j] : 0;
        }
        int bound;
        if (SuffixLowerBound.Slots(n, m) <= suffixBoundLimit)
        {
            FillSuffixBound(w, table, n, m);
            bound = GuidedUpperBound(w, table, n, m);
        }
        else
        {
            w.UseNoSuffixBound(n);
            bound = UpperBound(w, table, n, m);
        }
        Fill(w, table, n, m, bound);
        return Backtrack(w, n, m);
    }

    /// <summary>Lower bound of the edit distance of the comparison forms of two tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int LowerBound(DtwToken a, DtwToken b)
    {
        // Same forms as the cost: stripped, or unified when either is a bare marker.
        int la, lb;
        uint ma, mb;
        if (a.Length == 0 || b.Length == 0)
        {
            if (a.UClass == b.UClass)
            {
                return 0;
            }
            (la, lb, ma, mb) = (a.ULength, b.ULength, a.UMask, b.UMask);
        }
        else
        {
            if (a.Class == b.Class)
            {
                return 0;
            }
            (la, lb, ma, mb) = (a.Length, b.Length, a.Mask, b.Mask);
        }
        // Different strings differ by at least one edit, and by the longer length minus the most characters an edit
        // script can match: per side, one per shared bucket plus the characters beyond one per bucket used (see
        // SuffixLowerBound, here with 32 buckets).
        var shared = System.Numerics.BitOperations.PopCount(ma & mb);
        var repeats = Math.Min(la - System.Numerics.BitOperations.PopCount(ma), lb - System.Numerics.BitOperations.PopCount(mb));
        return Math.Max(1, Math.Max(la, lb) - repeats - shared);
    }

    // cost(i,j) from the dense table, or on a miss from the table's slow path (which fills it). With a bound, a
    // miss whose cheap lower bound already puts the cell past the bound returns Infinity without an edit distance.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Cost(DtwWorkspace w, DtwTokenTable table, byte[] dense, int i, int j, int best, int bound)
    {
        var entry = dense[w.PKey[i] + w.SKey[j]];
        return entry - 1u < DtwTokenTable.Overflow - 1u ? entry - 1 : table.Cost(w.PLocal[i], w.SLocal[j], best, bound);
    }

    // Cost of the best path inside a band of half-width BandRadius around the line that matches character
    // offsets (scaled to equal totals, so unrelated or differently spelled texts get the proportional diagonal).
    // The band's rows have non-decreasing ends and each row starts at most one column past the end of the row
    // above, so the band always holds a path from (0,0) to (n-1,m-1): the result is a real path's cost.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int UpperBound(DtwWorkspace w, DtwTokenTable table, int n, int m)
    {
        var cache = table.Dense;
        // Lengths of the token strings (the unified form has the string's length), filled only on this rare path.
        long totalP = 0, totalS = 0;
        for (var i = 0; i < n; i++)
        {
            totalP += w.PLength[i] = table.Pivot(w.PLocal[i]).ULength;
        }
        for (var j = 0; j < m; j++)
        {
            totalS += w.SLength[j] = table.Source(w.SLocal[j]).ULength;
        }
        totalP = Math.Max(totalP, 1);
        totalS = Math.Max(totalS, 1);
        int[] bandLo = w.RowLo, bandHi = w.RowEnd;
        long pAt = 0, sNext = w.SLength[0];
        var center = 0;
        for (var i = 0; i < n; i++)
        {
            // Source token under the middle character of pivot token i, in doubled units to stay integral.
            var middle = (2 * pAt + w.PLength[i]) * totalS;
            while (center < m - 1 && 2 * sNext * totalP <= middle)
            {
                center++;
                sNext += w.SLength[center];
            }
            pAt += w.PLength[i];
            int lo = Math.Max(0, center - BandRadius), hi = Math.Min(m - 1, center + BandRadius);
            if (i == 0)
            {
                lo = 0;
            }
            else
            {
                lo = Math.Max(bandLo[i - 1], Math.Min(lo, bandHi[i - 1] + 1));
                hi = Math.Max(hi, bandHi[i - 1]);
            }
            bandLo[i] = lo;
            bandHi[i] = i == n - 1 ? m - 1 : Math.Max(hi, lo);
        }
        return BandCost(w, table, n, m);
    }

    // Cost of the best path inside the band RowLo[i] .. RowEnd[i] (inclusive) of each row. The band's starts and
    // ends never decrease, each row starts at most one column past the end of the row above, row 0 starts at 0 and
    // row n-1 ends at m-1: it holds a path, and the result is a real path's cost.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int BandCost(DtwWorkspace w, DtwTokenTable table, int n, int m)
    {
        var cache = table.Dense;
        int[] bandLo = w.RowLo, bandHi = w.RowEnd;
        // Two rolling rows, here[j + 1] = D(i, j) and here[lo] = Infinity left of the band. Row i reads the row
        // above only at columns lo - 1 .. hi; band starts and ends never decrease, so those were all written by
        // row i - 1 or never written at all (still Infinity): nothing stale is read.
        int[] above = w.RowA, here = w.RowB;
        above.AsSpan(0, m + 1).Fill(Infinity);
        here.AsSpan(0, m + 1).Fill(Infinity);
        for (var i = 0; i < n; i++)
        {
            int lo = bandLo[i], hi = bandHi[i];
            here[lo] = Infinity;
            for (var j = lo; j <= hi; j++)
            {
                var best = i == 0 && j == 0 ? 0 : BranchFreeMin(BranchFreeMin(above[j + 1], above[j]), here[j]);
                here[j + 1] = best + Cost(w, table, cache, i, j, 0, Infinity);
            }
            (above, here) = (here, above);
        }
        return above[m];
    }

    // The pruned exact pass. Row i keeps columns [RowLo[i], RowEnd[i]) at Band[RowAt[i] + j - RowLo[i]], with
    // Infinity for pruned cells inside that range. A cell is kept when D(i,j) + Rest(i,j) <= UB, Rest being a
    // consistent lower bound of the cost still to pay after (i,j): the smallest H of its successors (see
    // SuffixLowerBound), or 0 for pairs too large for H. A cell whose D before its own cost, plus H(i,j), already
    // exceeds UB is pruned without looking its cost up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fill(DtwWorkspace w, DtwTokenTable table, int n, int m, int bound)
    {
        var cache = table.Dense;
        int[] rowLo = w.RowLo, rowEnd = w.RowEnd, rowAt = w.RowAt;
        short[] h = w.Bound;
        int[] hRow = w.BoundRowBase;
        var stride = w.BoundStride;
        var band = w.EnsureBand(m);
        band[0] = Cost(w, table, cache, 0, 0, 0, Infinity);
        var last = 0;
        for (var j = 1; j < m; j++)
        {
            // Row 0 is reached only from the left: once a cell is pruned, so is the rest of the row.
            var best = band[j - 1];
            if (best + h[BoundIndex(hRow, stride, 0, j)] > bound)
            {
                break;
            }
            var lb = Rest(h, hRow, stride, 0, j);
            var v = best + Cost(w, table, cache, 0, j, best + lb, bound);
            if (v + lb > bound)
            {
                break;
            }
            band[j] = v;
            last = j;
        }
        rowLo[0] = 0;
        rowEnd[0] = last + 1;
        rowAt[0] = 0;
        var free = last + 1;
        for (var i = 1; i < n; i++)
        {
            int lo = rowLo[i - 1], end = rowEnd[i - 1];
            band = w.EnsureBand(free + m - lo);
            // band[prev + j] = D(i-1, j) for lo <= j < end; band[at + j] = D(i, j).
            int prev = rowAt[i - 1] - lo, at = free - lo;
            var j = lo;
            var scan = new RowScan
            {
                Band = ref MemoryMarshal.GetArrayDataReference(band),
                H = ref MemoryMarshal.GetArrayDataReference(h),
                SKey = ref MemoryMarshal.GetArrayDataReference(w.SKey),
                Dense = ref MemoryMarshal.GetArrayDataReference(cache),
                Prev = prev,
                At = at,
                PKey = w.PKey[i],
                HRow = hRow[i] + i * stride,
                Bound = bound,
                Diagonal = Infinity,
                Left = Infinity,
                First = -1,
                Good = -1,
            };
            while ((j = stride == 0 ? scan.Run<NoStride>(j, end) : scan.Run<SuffixStride>(j, end)) < end)
            {
                // A cost the dense table does not hold yet: from the table's slow path, then on to the next column.
                scan.Complete(j, table.Cost(w.PLocal[i], w.SLocal[j], scan.Best + scan.Rest, bound));
                j++;
            }
            int first = scan.First, good = scan.Good, left = scan.Left, diagonal = scan.Diagonal;
            // Past the row above's end only the left neighbour (and once, the diagonal) remains.
            for (; j < m; j++)
            {
                var best = Math.Min(diagonal, left);
                diagonal = Infinity;
                if (best + h[BoundIndex(hRow, stride, i, j)] > bound)
                {
                    break;
                }
                var lb = Rest(h, hRow, stride, i, j);
                var v = best + Cost(w, table, cache, i, j, best + lb, bound);
                if (v + lb > bound)
                {
                    break;
                }
                band[at + j] = v;
                left = v;
                if (first < 0)
                {
                    first = j;
                }
                good = j;
            }
            if (first < 0)
            {
                throw new InvalidOperationException("DTW pruning removed a whole row; the upper bound was not a path cost.");
            }
            rowLo[i] = first;
            rowEnd[i] = good + 1;
            rowAt[i] = at + first;
            free = at + good + 1;
        }
    }

    // One row of the pruned pass over the columns the row above kept, as a loop with no call inside and few live
    // values: the JIT then keeps its state in registers (a call clobbers most of them, and past 15 live values it
    // spills). Every index is inside the arrays by construction (Band: the row above's kept cells and this row's
    // room; H: a strip's records reach two diagonals past its rows' last cells, see SuffixLowerBound), so there are no
    // bounds checks. Band[Prev + j] = D(i - 1, j), Band[At + j] = D(i, j), H[HRow + j * stride] = H(i, j).
    private ref struct RowScan
    {
        public ref int Band;
        public ref short H;
        public ref int SKey;
        public ref byte Dense;
        public int Prev, At, PKey, HRow, Bound;
        public int Diagonal, Left, First, Good;

        // Of the cell Run stopped at: its smallest predecessor and the bound of the rest after it.
        public int Best, Rest;

        // Fills columns j .. end - 1 and returns end, or stops at the first cell it must evaluate whose cost is not in
        // the dense table and returns its column (Complete(column, cost) then finishes it). The stride of H is a
        // constant of TStride, one register fewer.
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public int Run<TStride>(int j, int end)
            where TStride : struct, IBoundStride
        {
            var stride = TStride.Value;
            ref var up = ref Unsafe.Add(ref Band, Prev);
            ref var cell = ref Unsafe.Add(ref Band, At);
            ref var sKey = ref SKey;
            ref var denseRow = ref Unsafe.Add(ref Dense, PKey);
            ref var hp = ref Unsafe.Add(ref H, HRow + j * stride);
            int bound = Bound, diagonal = Diagonal, left = Left, good = Good;
            for (; j < end; j++)
            {
                var above = Unsafe.Add(ref up, j);
                var best = BranchFreeMin(BranchFreeMin(above, diagonal), left);
                diagonal = above;
                var v = Infinity;
                // hp is H(i, j); its successors (i, j + 1), (i + 1, j), (i + 1, j + 1) sit one record, one record and a
                // slot, and two records and a slot on, in the lines the next cells read.
                if (best + hp <= bound)
                {
                    var rest = BranchFreeMin(BranchFreeMin(Unsafe.Add(ref hp, stride), Unsafe.Add(ref hp, stride + 1)),
                        Unsafe.Add(ref hp, 2 * stride + 1));
                    var entry = Unsafe.Add(ref denseRow, Unsafe.Add(ref sKey, j));
                    if (entry - 1u >= DtwTokenTable.Overflow - 1u)
                    {
                        (Best, Rest) = (best, rest);
                        break;
                    }
                    v = best + entry - 1;
                    if (v + rest <= bound)
                    {
                        if (First < 0)
                        {
                            First = j;
                        }
                        good = j;
                    }
                    else
                    {
                        v = Infinity;
                    }
                }
                Unsafe.Add(ref cell, j) = v;
                left = v;
                hp = ref Unsafe.Add(ref hp, stride);
            }
            (Diagonal, Left, Good) = (diagonal, left, good);
            return j;
        }

        // Finishes the cell Run stopped at, column j, with its cost.
        public void Complete(int j, int cost)
        {
            var v = Best + cost;
            if (v + Rest <= Bound)
            {
                if (First < 0)
                {
                    First = j;
                }
                Good = j;
            }
            else
            {
                v = Infinity;
            }
            Unsafe.Add(ref Band, At + j) = v;
            Left = v;
        }
    }

    // The stride of H's layout as a compile-time constant: SuffixLowerBound's, or 0 for pairs without H (every read
    // then lands on slot 0 of an all-zero table).
    private interface IBoundStride
    {
        static abstract int Value { get; }
    }

    private readonly struct SuffixStride : IBoundStride
    {
        public static int Value => SuffixLowerBound.Stride;
    }

    private readonly struct NoStride : IBoundStride
    {
        public static int Value => 0;
    }

    // min(a, b) without a branch, for the hot loop: which of three neighbours is smallest is data, not pattern. In
    // the row scan (RowScan.Run) the JIT emits it as four arithmetic instructions; Math.Min there became compares and
    // branches (no cmov) and the whole alignment took 1.13x the time (bench/run align-versus). Valid for
    // 0 <= a, b <= Infinity, where a - b cannot overflow.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BranchFreeMin(int a, int b)
    {
        var d = a - b;
        return b + (d & (d >> 31));
    }

    // Where H(i, j) is (SuffixLowerBound's layout; stride 0 with all-zero bases for pairs without H). Its successors
    // (i, j + 1), (i + 1, j) and (i + 1, j + 1) are one record, one record and a slot, and two records and a slot on.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BoundIndex(int[] hRow, int stride, int i, int j) => hRow[i] + (i + j) * stride;

    // Lower bound of the cost after cell (i, j): the smallest H of (i, j+1), (i+1, j), (i+1, j+1). Cells past the
    // matrix's edge read the cap, and the virtual end (n-1, m) reads 0 (see SuffixLowerBound).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Rest(short[] h, int[] hRow, int stride, int i, int j)
    {
        var next = BoundIndex(hRow, stride, i, j + 1);
        return Math.Min(Math.Min(h[next], h[next + 1]), h[next + stride + 1]);
    }

    // Pairs whose bound table fits this many slots (about 4k x 4k tokens; 32 MiB per thread) get the suffix bound H;
    // larger ones are pruned by D <= UB alone (still exact, slower) rather than hold a bound table that large per
    // thread. Slots, not cells: a very unbalanced pair has more diagonals than cells per diagonal.
    private const long SuffixBoundLimit = 1L << 24;

    // H(i, j) for the pair: the pivot's and the reversed source's attributes, then the backward pass.
    private static void FillSuffixBound(DtwWorkspace w, DtwTokenTable table, int n, int m)
    {
        w.EnsureSuffixBound(n, m);
        // Attributes per distinct token first (about half the positions), then copied to the positions.
        var distinct = w.DistinctBound;
        distinct.Ensure(Math.Max(table.PivotCount, table.SourceCount));
        for (var l = 0; l < table.PivotCount; l++)
        {
            SetAttributes(distinct, l, table, table.Pivot(l));
        }
        for (var i = 0; i < n; i++)
        {
            w.PivotBound.CopyFrom(distinct, w.PLocal[i], i);
        }
        for (var l = 0; l < table.SourceCount; l++)
        {
            SetAttributes(distinct, l, table, table.Source(l));
        }
        for (var j = 0; j < m; j++)
        {
            w.SourceBound.CopyFrom(distinct, w.SLocal[j], m - 1 - j);
        }
        SuffixLowerBound.Fill(n, m, w.PivotBound, w.SourceBound, w.Bound, w.BoundRowBase);
    }

    private static void SetAttributes(SuffixBoundTokens tokens, int at, DtwTokenTable table, DtwToken t) =>
        tokens.Set(at, table.FormKey(t), t.Length, t.Mask);

    // An upper bound from H: the path from (0, 0) that always steps to the successor with the smallest H (ties:
    // diagonal, pivot step, source step) is the cheapest path under the lower-bound costs and on real pairs runs
    // close to an optimal one; the best real path within GuidedRadius columns of it is the bound.
    private static int GuidedUpperBound(DtwWorkspace w, DtwTokenTable table, int n, int m)
    {
        short[] h = w.Bound;
        int[] hRow = w.BoundRowBase, bandLo = w.RowLo, bandHi = w.RowEnd;
        var stride = w.BoundStride;
        int i = 0, j = 0;
        bandLo[0] = 0;
        while (i < n - 1 || j < m - 1)
        {
            bool down, right;
            if (i == n - 1 || j == m - 1)
            {
                (down, right) = (i < n - 1, j < m - 1);
            }
            else
            {
                var next = BoundIndex(hRow, stride, i, j + 1);
                int diagonalH = h[next + stride + 1], downH = h[next + 1], rightH = h[next];
                down = diagonalH <= rightH || downH <= rightH;
                right = diagonalH <= downH && diagonalH <= rightH || !down;
            }
            if (down)
            {
                // Leaving row i: j is the last column the path visits in it.
                bandHi[i] = Math.Min(m - 1, j + GuidedRadius);
                bandLo[i + 1] = Math.Max(0, j + (right ? 1 : 0) - GuidedRadius);
                i++;
            }
            if (right)
            {
                j++;
            }
        }
        bandHi[n - 1] = m - 1;
        return BandCost(w, table, n, m);
    }

    // Half-width of the band around the H-guided path that gives the upper bound. Measured with bench/run
    // align-versus once the cost shortcuts were in: 1 takes 0.98x the time of 2 (fewer band costs, about the same
    // bound); 0 takes 1.05x (the looser bound keeps more cells). Any value keeps the result exact.
    private const int GuidedRadius = 1;

    private static TokenAlignment Backtrack(DtwWorkspace w, int n, int m)
    {
        // The path has at most n + m - 1 cells; they are written from the end of the workspace's arrays backwards,
        // then copied out, so the result is its only allocation.
        var last = n + m - 1;
        var (pivots, sources) = w.EnsurePath(last);
        int[] band = w.Band, rowLo = w.RowLo, rowEnd = w.RowEnd, rowAt = w.RowAt;
        var k = last;
        int i = n - 1, j = m - 1;
        var cost = Get(band, rowLo, rowEnd, rowAt, i, j);
        while (true)
        {
            k--;
            pivots[k] = i;
            sources[k] = j;
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
            var best = Get(band, rowLo, rowEnd, rowAt, i - 1, j - 1);
            int di = -1, dj = -1;
            var up = Get(band, rowLo, rowEnd, rowAt, i - 1, j);
            if (up < best)
            {
                best = up;
                di = -1;
                dj = 0;
            }
            var left = Get(band, rowLo, rowEnd, rowAt, i, j - 1);
            if (left < best)
            {
                di = 0;
                dj = -1;
            }
            i += di;
            j += dj;
        }
        return new TokenAlignment(n, m, pivots.AsSpan(k, last - k).ToArray(), sources.AsSpan(k, last - k).ToArray()) { Cost = cost };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Get(int[] band, int[] rowLo, int[] rowEnd, int[] rowAt, int i, int j)
    {
        var lo = rowLo[i];
        return (uint)(j - lo) < (uint)(rowEnd[i] - lo) ? band[rowAt[i] + j - lo] : Infinity;
    }
}

