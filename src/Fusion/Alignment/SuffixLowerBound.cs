using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// For every cell (i, j) of a DTW matrix, a lower bound H(i, j) of the cheapest path cost from (i, j), its own cost
/// included, to (n-1, m-1): the exact DTW of the same grid under a cheap lower bound of each cell's cost,
/// filled backwards. It is what makes the exact pruned pass of <see cref="DynamicTimeWarping"/> keep only cells
/// near the optimal path: a cell whose forward cost plus this bound exceeds an upper bound lies on no optimal path.
/// </summary>
/// <remarks>
/// <para>Cell lower bound (valid for the comparison forms of METHOD.md, bare markers included): 0 when the two tokens
/// compare equal (the difference below is 0 for them, so the fill only skips the "at least 1"), otherwise
/// max(1, max(La, Lb) - min(Ra, Rb) - |Ma and Mb|), L the length of the stripped string (a
/// bare marker's is 0: every non-marker character of the other token is still one edit), M the set of 32 character
/// buckets the stripped string uses and R = L - |M|. Why: an edit script with c matches costs at least
/// max(La, Lb) - c, and a match pairs two characters of one bucket, so c is at most the characters of A in buckets
/// B also uses: at most |Ma and Mb| + Ra (each bucket A uses holds one character, the Ra others may fall anywhere),
/// and likewise for B. It is never below the difference in length or the buckets only one side uses, and it is
/// the full length of the longer token when the two share no bucket ("\n" against "&lt;0x0A&gt;" costs 6, not 5).
/// Lengths are capped at <see cref="LengthCap"/>, which only lowers the bound. Because H is an exact
/// DTW under costs that never exceed the real ones, the remaining bound min over the successors of H is consistent:
/// it drops by at most the real cost of a step, which is what keeps the pruning exact.</para>
/// <para>Layout and speed: rows are grouped in strips of <see cref="StripRows"/> (the lanes of one vector: 32
/// 16-bit values where the hardware has 512-bit vectors, 16 elsewhere). A strip stores, for each anti-diagonal
/// d = i + j it crosses, one record of <see cref="Stride"/> slots: its rows' H, then a copy of the next strip's first
/// row on that diagonal. H(i, j) is at <c>h[rowBase[i] + (i + j) * Stride]</c>, so a row's successors are at fixed
/// offsets: (i, j + 1) one record on, (i + 1, j) one record and one slot on (the copy, for a strip's last row), and
/// (i + 1, j + 1) two records and one slot on; consecutive cells of a row are one record apart, which keeps the row-wise
/// passes of <see cref="DynamicTimeWarping"/> on neighbouring cache lines. The fill runs strip by strip from the
/// last, and in a strip diagonal by diagonal from the last: the pivot's attributes stay in registers for a whole
/// strip, the two previous diagonals' H are in registers too (moved one lane, with the next strip's record supplying
/// its first row, they are the successors one row down; each diagonal moves one vector and the next reuses it), so
/// each vector of cells loads only the source's attributes and the next strip's record. The character masks come
/// split into one bit group per byte (<see cref="SuffixBoundTokens"/>), so the shared buckets are table lookups and
/// one multiply-add that sums each lane's bytes: three 64-entry lookups of 6-bit groups (vpermb) with AVX-512 VBMI
/// (<see cref="SixBitParts"/>), four 16-entry lookups of nibbles (vpshufb) otherwise. Cells outside the matrix read the cap, except the
/// virtual cell (n-1, m), which reads 0: the end of every path. That makes (n-2, m-1)'s bound 0 after its own cost,
/// weaker but still a lower bound. Sums saturate at <see cref="Cap"/> (short.MaxValue); a capped bound is still a
/// consistent lower bound.</para>
/// </remarks>
internal static class SuffixLowerBound
{
    /// <summary>Largest stored bound (sums saturate there); also the value outside the matrix.</summary>
    public const short Cap = short.MaxValue;

    /// <summary>Largest length used in the bound (keeps a cell's cost well inside 16 bits).</summary>
    public const int LengthCap = 2000;

    /// <summary>Slots before the first and after the last position of the attribute arrays: the source's are read
    /// up to a strip's height before its start and after its end.</summary>
    public const int Spare = 40;

    /// <summary>True when the character masks are stored as three parts of two 6-bit groups (counted with the
    /// 64-entry byte table of AVX-512 VBMI's vpermb) rather than four parts of two nibbles (vpshufb's 16 entries).</summary>
    public static bool SixBitParts => Vector512.IsHardwareAccelerated && Avx512Vbmi.IsSupported;

    /// <summary>Rows per strip: the lanes of the vector the fill uses.</summary>
    public static int StripRows => Vector512.IsHardwareAccelerated ? Vector512<short>.Count : Vector256<short>.Count;

    /// <summary>Slots per diagonal record of a strip: its rows, then the next strip's first row.</summary>
    public static int Stride => StripRows + 1;

    /// <summary>Storage needed for an n x m matrix, in 16-bit slots.</summary>
    public static long Slots(int n, int m)
    {
        long rows = StripRows;
        return (n + rows - 1) / rows * Records(m, (int)rows) * (rows + 1);
    }

    // Diagonal records per strip: a strip starting at row r0 stores diagonals r0 .. r0 + m + rows (the last rows' cells,
    // their virtual column m, and the diagonal successors of those).
    private static long Records(int m, int rows) => m + rows + 1L;

    /// <summary>
    /// Fills <paramref name="h"/> and <paramref name="rowBase"/> (n entries): H(i, j) at
    /// <c>h[rowBase[i] + (i + j) * Stride]</c>, from the pivot's tokens and the source's, the latter stored reversed
    /// (position m - 1 - j).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(int n, int m, SuffixBoundTokens pivot, SuffixBoundTokens sourceReversed, short[] h, int[] rowBase)
    {
        var lanes = new Lanes(h, pivot, sourceReversed);
        if (Vector512.IsHardwareAccelerated)
        {
            FillStrips<Vector512<short>, Wide>(n, m, lanes, rowBase);
        }
        else
        {
            FillStrips<Vector256<short>, Narrow>(n, m, lanes, rowBase);
        }
    }

    // Strips from the last to the first, TOps.Count rows each (one generic body for both vector widths; the JIT
    // compiles one specialised copy per struct type, with no indirection).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void FillStrips<TV, TOps>(int n, int m, Lanes lanes, int[] rowBase)
        where TOps : struct, IShortLanes<TV>
    {
        var rows = TOps.Count;
        var stride = rows + 1;
        var records = (int)Records(m, rows);
        var strips = (n + rows - 1) / rows;
        var h = lanes.H;
        var one = TOps.Splat(1);
        var cap = TOps.Splat(Cap);
        var zero = TOps.Splat(0);
        var lane = TOps.LaneIndex();
        fixed (short* hBase = h, sKey = lanes.SourceKey, sLength = lanes.SourceLength, sRepeats = lanes.SourceRepeats)
        fixed (short* sMask0 = lanes.SourceMask0, sMask1 = lanes.SourceMask1, sMask2 = lanes.SourceMask2, sMask3 = lanes.SourceMask3)
        {
            var source = new SourcePointers(sKey, sLength, sRepeats, sMask0, sMask1, sMask2, sMask3);
            for (var s = strips - 1; s >= 0; s--)
            {
                var r0 = s * rows;
                var start = s * records * stride;
                for (var r = 0; r < rows && r0 + r < n; r++)
                {
                    rowBase[r0 + r] = start - r0 * stride + r;
                }
                var height = Math.Min(rows, n - r0);
                // The strip's rows' attributes, for every diagonal of the strip.
                var front = Spare + r0;
                var pivot = new StripPivot<TV>(TOps.Load(lanes.PivotKey, front), TOps.Load(lanes.PivotLength, front),
                    TOps.Load(lanes.PivotRepeats, front), TOps.Load(lanes.PivotMask0, front), TOps.Load(lanes.PivotMask1, front),
                    TOps.Load(lanes.PivotMask2, front), TOps.Load(lanes.PivotMask3, front));
                // H on the diagonal after the current one (this strip's rows), its successors one row down (the same
                // moved one lane, the next strip's first row coming in) and that for the diagonal after it: all cap past
                // the end. The moved vector of one diagonal is reused by the next, so each diagonal moves one vector.
                TV after = cap, afterDown = cap, afterNextDown = cap;
                var nextStart = start + records * stride;
                var hasNext = s < strips - 1;
                // Diagonals on which every lane is a cell of the matrix.
                int fullFirst = r0 + rows - 1, fullLast = r0 + m - 1;
                var last = r0 + records - 1;
                // Diagonals whose lanes are all cells of the matrix and meet the next strip's record: the loop below runs
                // them without the edge tests, through pointers (no bounds or null checks).
                int fastHigh = fullLast, fastLow = fullFirst + 1;
                var fast = hasNext && height == rows && fastLow <= fastHigh;
                for (var d = last; d >= r0; d--)
                {
                    if (fast && d == fastHigh)
                    {
                        var hp = hBase + start + (d - r0) * stride;
                        var bp = hBase + nextStart + (d - r0 - rows) * stride;
                        var k0 = Spare + m - 1 - d + r0;
                        for (; d >= fastLow; d--, hp -= stride, bp -= stride, k0++)
                        {
                            var belowNow = TOps.Load(bp);
                            var nextNow = TOps.Min(after, TOps.Min(afterDown, afterNextDown));
                            var costNow = CellBounds<TV, TOps>(pivot, source, k0, one, zero);
                            var valueNow = TOps.AddSaturate(costNow, nextNow);
                            TOps.Store(valueNow, hp);
                            hp[rows] = *bp;
                            afterNextDown = afterDown;
                            afterDown = TOps.ShiftIn(valueNow, belowNow);
                            after = valueNow;
                        }
                        // The outer loop's step takes d to fastLow - 1.
                        d++;
                        continue;
                    }
                    var at = start + (d - r0) * stride;
                    var nextRecord = d - r0 - rows;
                    // The next strip's record on this diagonal: its first lane is the next strip's first row.
                    var belowAt = hasNext && nextRecord >= 0 ? nextStart + nextRecord * stride : -1;
                    var belowHere = belowAt >= 0 ? TOps.Load(h, belowAt) : cap;
                    var next = TOps.Min(after, TOps.Min(afterDown, afterNextDown));
                    // Source position of lane r: m - 1 - (d - r0 - r), reversed, so the lanes read consecutive slots.
                    var cost = CellBounds<TV, TOps>(pivot, source, Spare + m - 1 - d + r0, one, zero);
                    var value = TOps.AddSaturate(cost, next);
                    if (d < fullFirst || d > fullLast || height < rows)
                    {
                        // Lanes outside the matrix read the cap, the virtual end cell (n - 1, m) reads 0.
                        // Lane r's column is d - r0 - r; both comparisons on small numbers (clamped) so that they fit 16 bits.
                        var column = TOps.Subtract(TOps.Splat((short)Math.Min(d - r0, short.MaxValue)), lane);
                        var pastEnd = TOps.Subtract(TOps.Splat((short)Math.Max(d - r0 - m, -short.MaxValue)), lane);
                        var inside = TOps.And(TOps.And(TOps.GreaterThan(column, TOps.Splat(-1)), TOps.GreaterThan(zero, pastEnd)),
                            TOps.GreaterThan(TOps.Splat((short)height), lane));
                        value = TOps.Select(inside, value, cap);
                        if (d == n - 1 + m && r0 + height == n)
                        {
                            value = TOps.WithElement(value, n - 1 - r0, 0);
                        }
                    }
                    TOps.Store(value, h, at);
                    // The next strip's first row on this diagonal, for this strip's last row.
                    h[at + rows] = belowAt >= 0 ? h[belowAt] : Cap;
                    afterNextDown = afterDown;
                    afterDown = TOps.ShiftIn(value, belowHere);
                    after = value;
                }
            }
        }
    }

    // The cell bounds of one diagonal of a strip: its rows' tokens (pivot, one per lane) against the source positions
    // k, k + 1, ... (reversed, see Fill): the longer length minus the most characters an edit script can match (see the
    // remarks), at least 1 unless the forms are equal, where that difference is 0 already (equal lengths, repeats and
    // masks): one masked max.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe TV CellBounds<TV, TOps>(in StripPivot<TV> pivot, in SourcePointers source, int k, TV one, TV zero)
        where TOps : struct, IShortLanes<TV>
    {
        var longer = TOps.Max(pivot.Length, TOps.Load(source.Length + k));
        var repeats = TOps.Min(pivot.Repeats, TOps.Load(source.Repeats + k));
        var shared = TOps.SharedBuckets(
            TOps.And(pivot.Mask0, TOps.Load(source.Mask0 + k)),
            TOps.And(pivot.Mask1, TOps.Load(source.Mask1 + k)),
            TOps.And(pivot.Mask2, TOps.Load(source.Mask2 + k)),
            TOps.ThreeParts ? zero : TOps.And(pivot.Mask3, TOps.Load(source.Mask3 + k)));
        return TOps.AtLeastUnlessEqual(TOps.Subtract(TOps.Subtract(longer, repeats), shared), one, pivot.Key, TOps.Load(source.Key + k));
    }

    // A strip's rows' attributes, one row per lane, kept for every diagonal of the strip.
    private readonly struct StripPivot<TV>(TV key, TV length, TV repeats, TV mask0, TV mask1, TV mask2, TV mask3)
    {
        public readonly TV Key = key, Length = length, Repeats = repeats, Mask0 = mask0, Mask1 = mask1, Mask2 = mask2, Mask3 = mask3;
    }

    // The source's attribute arrays, pinned for the fill.
    private readonly unsafe struct SourcePointers(short* key, short* length, short* repeats, short* mask0, short* mask1, short* mask2, short* mask3)
    {
        public readonly short* Key = key, Length = length, Repeats = repeats, Mask0 = mask0, Mask1 = mask1, Mask2 = mask2, Mask3 = mask3;
    }

    // The arrays one fill reads and writes: H and the two sides' attribute arrays, taken out once per fill.
    private readonly struct Lanes(short[] h, SuffixBoundTokens pivot, SuffixBoundTokens source)
    {
        public readonly short[] H = h;
        public readonly short[] PivotKey = pivot.Key, PivotLength = pivot.Length, PivotRepeats = pivot.Repeats;
        public readonly short[] PivotMask0 = pivot.Mask0, PivotMask1 = pivot.Mask1, PivotMask2 = pivot.Mask2, PivotMask3 = pivot.Mask3;
        public readonly short[] SourceKey = source.Key, SourceLength = source.Length, SourceRepeats = source.Repeats;
        public readonly short[] SourceMask0 = source.Mask0, SourceMask1 = source.Mask1, SourceMask2 = source.Mask2, SourceMask3 = source.Mask3;
    }

    // The vector operations the fill needs, over 16-bit lanes; loads and stores skip bounds checks (the attribute
    // arrays carry Spare slots before and after their positions, H's records a copy slot after each). All inlined: a
    // call per vector operation costs more than the operation.
    private interface IShortLanes<TV>
    {
        static abstract int Count { get; }
        static abstract TV Splat(short value);
        static abstract TV Load(short[] array, int at);
        static abstract void Store(TV value, short[] array, int at);
        static abstract unsafe TV Load(short* at);
        static abstract unsafe void Store(TV value, short* at);
        static abstract TV Min(TV a, TV b);
        static abstract TV Max(TV a, TV b);
        // a + b, at most short.MaxValue.
        static abstract TV AddSaturate(TV a, TV b);
        static abstract TV Subtract(TV a, TV b);
        static abstract TV And(TV a, TV b);
        static abstract TV LaneIndex();
        static abstract TV GreaterThan(TV a, TV b);
        static abstract TV Select(TV mask, TV a, TV b);
        // max(x, floor) where a != b, else x.
        static abstract TV AtLeastUnlessEqual(TV x, TV floor, TV a, TV b);
        static abstract TV WithElement(TV v, int index, short value);
        // Lanes 1 .. Count - 1 of x, then lane 0 of y: x moved one lane down with y's first lane coming in at the top.
        static abstract TV ShiftIn(TV x, TV y);
        // True when the masks come in three parts of 6-bit groups (SixBitParts); the fourth is then not read.
        static abstract bool ThreeParts { get; }
        // Per lane, the bits set in the vectors of mask parts (one bit group per byte, see SuffixBoundTokens).
        static abstract TV SharedBuckets(TV a, TV b, TV c, TV d);
    }

    private readonly struct Wide : IShortLanes<Vector512<short>>
    {
        public static int Count => Vector512<short>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> Splat(short value) => Vector512.Create(value);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> Load(short[] array, int at) => Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(array), (nuint)at);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector512<short> value, short[] array, int at) => value.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(array), (nuint)at);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector512<short> Load(short* at) => Vector512.Load(at);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Store(Vector512<short> value, short* at) => value.Store(at);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> Min(Vector512<short> a, Vector512<short> b) => Vector512.Min(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> Max(Vector512<short> a, Vector512<short> b) => Vector512.Max(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> AddSaturate(Vector512<short> a, Vector512<short> b) => Vector512.AddSaturate(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> Subtract(Vector512<short> a, Vector512<short> b) => a - b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> And(Vector512<short> a, Vector512<short> b) => a & b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> LaneIndex() => Vector512<short>.Indices;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> GreaterThan(Vector512<short> a, Vector512<short> b) => Vector512.GreaterThan(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> Select(Vector512<short> mask, Vector512<short> a, Vector512<short> b) => Vector512.ConditionalSelect(mask, a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> AtLeastUnlessEqual(Vector512<short> x, Vector512<short> floor, Vector512<short> a, Vector512<short> b) =>
            Vector512.ConditionalSelect(~Vector512.Equals(a, b), Vector512.Max(x, floor), x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> WithElement(Vector512<short> v, int index, short value) => v.WithElement(index, value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> ShiftIn(Vector512<short> x, Vector512<short> y)
        {
            if (Avx512BW.IsSupported)
            {
                // x's 128-bit blocks 1 to 3 then y's block 0 (valignd), then within each block [that, x] moved by one
                // lane (vpalignr): two single-cycle shuffles, no index vector.
                var blocks = Avx512F.AlignRight32(y.AsInt32(), x.AsInt32(), 4).AsByte();
                return Avx512BW.AlignRight(blocks, x.AsByte(), 2).AsInt16();
            }
            return Vector512.Shuffle(x, Vector512<short>.Indices + Vector512<short>.One).WithElement(Vector512<short>.Count - 1, y.ToScalar());
        }

        // The layout SuffixBoundTokens stores: the wide fill runs exactly where Vector512 is accelerated.
        public static bool ThreeParts => SixBitParts;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> SharedBuckets(Vector512<short> a, Vector512<short> b, Vector512<short> c, Vector512<short> d)
        {
            if (ThreeParts)
            {
                // Three parts of 6-bit groups: one 64-entry table lookup per byte (vpermb), d unused.
                var counts = Vector512.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                    1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5, 1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5,
                    2, 3, 3, 4, 3, 4, 4, 5, 3, 4, 4, 5, 4, 5, 5, 6);
                var groups = Avx512Vbmi.PermuteVar64x8(counts, a.AsByte()) + Avx512Vbmi.PermuteVar64x8(counts, b.AsByte())
                    + Avx512Vbmi.PermuteVar64x8(counts, c.AsByte());
                return Avx512BW.MultiplyAddAdjacent(groups, Vector512.Create((sbyte)1));
            }
            var table = Vector512.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
            if (Avx512BW.IsSupported)
            {
                // Each byte's bit count from the table (vpshufb), the four added (at most 16 per byte), then each lane's
                // two bytes summed by one multiply-add with ones (vpmaddubsw).
                var bytes = Avx512BW.Shuffle(table, a.AsByte()) + Avx512BW.Shuffle(table, b.AsByte())
                    + Avx512BW.Shuffle(table, c.AsByte()) + Avx512BW.Shuffle(table, d.AsByte());
                return Avx512BW.MultiplyAddAdjacent(bytes, Vector512.Create((sbyte)1));
            }
            var sum = (Vector512.Shuffle(table, a.AsByte()) + Vector512.Shuffle(table, b.AsByte())
                + Vector512.Shuffle(table, c.AsByte()) + Vector512.Shuffle(table, d.AsByte())).AsUInt16();
            return ((sum + Vector512.ShiftRightLogical(sum, 8)) & Vector512.Create((ushort)0x00FF)).AsInt16();
        }
    }

    private readonly struct Narrow : IShortLanes<Vector256<short>>
    {
        public static int Count => Vector256<short>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> Splat(short value) => Vector256.Create(value);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> Load(short[] array, int at) => Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(array), (nuint)at);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector256<short> value, short[] array, int at) => value.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(array), (nuint)at);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<short> Load(short* at) => Vector256.Load(at);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Store(Vector256<short> value, short* at) => value.Store(at);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> Min(Vector256<short> a, Vector256<short> b) => Vector256.Min(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> Max(Vector256<short> a, Vector256<short> b) => Vector256.Max(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> AddSaturate(Vector256<short> a, Vector256<short> b) => Vector256.AddSaturate(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> Subtract(Vector256<short> a, Vector256<short> b) => a - b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> And(Vector256<short> a, Vector256<short> b) => a & b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> LaneIndex() => Vector256<short>.Indices;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> GreaterThan(Vector256<short> a, Vector256<short> b) => Vector256.GreaterThan(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> Select(Vector256<short> mask, Vector256<short> a, Vector256<short> b) => Vector256.ConditionalSelect(mask, a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> AtLeastUnlessEqual(Vector256<short> x, Vector256<short> floor, Vector256<short> a, Vector256<short> b) =>
            Vector256.ConditionalSelect(Vector256.Equals(a, b), x, Vector256.Max(x, floor));
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> WithElement(Vector256<short> v, int index, short value) => v.WithElement(index, value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> ShiftIn(Vector256<short> x, Vector256<short> y)
        {
            if (Avx2.IsSupported)
            {
                // [x's upper half, y's lower half] next to x, shifted right by one lane within each 128-bit half.
                return Avx2.AlignRight(Avx2.Permute2x128(x, y, 0x21), x, 2);
            }
            return Vector256.Shuffle(x, Vector256<short>.Indices + Vector256<short>.One).WithElement(Vector256<short>.Count - 1, y.ToScalar());
        }

        public static bool ThreeParts => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> SharedBuckets(Vector256<short> a, Vector256<short> b, Vector256<short> c, Vector256<short> d)
        {
            var table = Vector256.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
            if (Avx2.IsSupported)
            {
                // As the wide form: table lookups per byte (vpshufb), added, each lane's two bytes summed (vpmaddubsw).
                var bytes = Avx2.Shuffle(table, a.AsByte()) + Avx2.Shuffle(table, b.AsByte())
                    + Avx2.Shuffle(table, c.AsByte()) + Avx2.Shuffle(table, d.AsByte());
                return Avx2.MultiplyAddAdjacent(bytes, Vector256.Create((sbyte)1));
            }
            var sum = (Vector256.Shuffle(table, a.AsByte()) + Vector256.Shuffle(table, b.AsByte())
                + Vector256.Shuffle(table, c.AsByte()) + Vector256.Shuffle(table, d.AsByte())).AsUInt16();
            return ((sum + Vector256.ShiftRightLogical(sum, 8)) & Vector256.Create((ushort)0x00FF)).AsInt16();
        }
    }

    /// <summary>The cell bound of pivot position <paramref name="i"/> against reversed source position <paramref name="k"/> (the scalar form of the vector code).</summary>
    public static short CellBound(SuffixBoundTokens pivot, int i, SuffixBoundTokens sourceReversed, int k)
    {
        i += Spare;
        k += Spare;
        var shared = BitOperations.PopCount((uint)(ushort)(pivot.Mask0[i] & sourceReversed.Mask0[k]))
            + BitOperations.PopCount((uint)(ushort)(pivot.Mask1[i] & sourceReversed.Mask1[k]))
            + BitOperations.PopCount((uint)(ushort)(pivot.Mask2[i] & sourceReversed.Mask2[k]))
            + BitOperations.PopCount((uint)(ushort)(pivot.Mask3[i] & sourceReversed.Mask3[k]));
        var longer = Math.Max(pivot.Length[i], sourceReversed.Length[k]);
        var difference = longer - Math.Min(pivot.Repeats[i], sourceReversed.Repeats[k]) - shared;
        // Equal forms have equal attributes, so their difference is already 0 (a key shared by different forms, past
        // 32768 forms in a pair, keeps it: never above the cost); any other pair costs at least 1.
        return (short)(pivot.Key[i] == sourceReversed.Key[k] ? difference : Math.Max(1, difference));
    }

}
