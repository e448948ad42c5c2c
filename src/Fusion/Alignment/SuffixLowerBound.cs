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
/// compare equal, otherwise max(1, max(La, Lb) - min(Ra, Rb) - |Ma and Mb|), L the length of the stripped string (a
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
/// strip, the two previous diagonals' H are in registers too (a lane shift brings in the next strip's first row),
/// so each vector of cells loads only the source's attributes and one value of the next strip's first row. Cells outside the matrix
/// read the cap, except the virtual cell (n-1, m), which reads 0: the end of every path. That makes (n-2, m-1)'s
/// bound 0 after its own cost, weaker but still a lower bound. Values are capped at <see cref="Cap"/>; a capped bound
/// is still a consistent lower bound.</para>
/// </remarks>
internal static class SuffixLowerBound
{
    /// <summary>Largest stored bound; also the value outside the matrix.</summary>
    public const short Cap = 30000;

    /// <summary>Largest length used in the bound (keeps sums of a cost and a capped value in 16 bits).</summary>
    public const int LengthCap = 2000;

    /// <summary>Slots before the first and after the last position of the attribute arrays: the source's are read
    /// up to a strip's height before its start and after its end.</summary>
    public const int Spare = 40;

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
    private static void FillStrips<TV, TOps>(int n, int m, Lanes lanes, int[] rowBase)
        where TOps : struct, IShortLanes<TV>
    {
        var rows = TOps.Count;
        var stride = rows + 1;
        var records = (int)Records(m, rows);
        var strips = (n + rows - 1) / rows;
        var h = lanes.H;
        var one = TOps.Splat(1);
        var cap = TOps.Splat(Cap);
        var lane = TOps.LaneIndex();
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
            var pivotKey = TOps.Load(lanes.PivotKey, front);
            var pivotLength = TOps.Load(lanes.PivotLength, front);
            var pivotRepeats = TOps.Load(lanes.PivotRepeats, front);
            var pivotMaskLow = TOps.Load(lanes.PivotMaskLow, front);
            var pivotMaskHigh = TOps.Load(lanes.PivotMaskHigh, front);
            // H on the two diagonals after the current one: this strip's rows, and the next strip's first row (all cap
            // past the end).
            TV after = cap, afterNext = cap;
            short below = Cap, belowNext = Cap;
            var nextStart = start + records * stride;
            var hasNext = s < strips - 1;
            // Diagonals on which every lane is a cell of the matrix.
            int fullFirst = r0 + rows - 1, fullLast = r0 + m - 1;
            var last = r0 + records - 1;
            for (var d = last; d >= r0; d--)
            {
                var at = start + (d - r0) * stride;
                var nextRecord = d - r0 - rows;
                var belowHere = hasNext && nextRecord >= 0 ? h[nextStart + nextRecord * stride] : Cap;
                var next = TOps.Min(after, TOps.Min(TOps.ShiftIn(after, below), TOps.ShiftIn(afterNext, belowNext)));
                // Source position of lane r: m - 1 - (d - r0 - r), reversed, so the lanes read consecutive slots.
                var k = Spare + m - 1 - d + r0;
                var equal = TOps.Equal(pivotKey, TOps.Load(lanes.SourceKey, k));
                var longer = TOps.Max(pivotLength, TOps.Load(lanes.SourceLength, k));
                var repeats = TOps.Min(pivotRepeats, TOps.Load(lanes.SourceRepeats, k));
                // The longer length minus the most characters an edit script can match (see the remarks).
                var shared = TOps.PopCountSum(
                    TOps.And(pivotMaskLow, TOps.Load(lanes.SourceMaskLow, k)),
                    TOps.And(pivotMaskHigh, TOps.Load(lanes.SourceMaskHigh, k)));
                var cost = TOps.AndNot(TOps.Max(TOps.Subtract(TOps.Subtract(longer, repeats), shared), one), equal);
                var value = TOps.Min(TOps.Add(cost, next), cap);
                if (d < fullFirst || d > fullLast || height < rows)
                {
                    // Lanes outside the matrix read the cap, the virtual end cell (n - 1, m) reads 0.
                    // Lane r's column is d - r0 - r; both comparisons on small numbers (clamped) so that they fit 16 bits.
                    var column = TOps.Subtract(TOps.Splat((short)Math.Min(d - r0, short.MaxValue)), lane);
                    var pastEnd = TOps.Subtract(TOps.Splat((short)Math.Max(d - r0 - m, -short.MaxValue)), lane);
                    var inside = TOps.And(TOps.And(TOps.GreaterThan(column, TOps.Splat(-1)), TOps.GreaterThan(TOps.Splat(0), pastEnd)),
                        TOps.GreaterThan(TOps.Splat((short)height), lane));
                    value = TOps.Select(inside, value, cap);
                    if (d == n - 1 + m && r0 + height == n)
                    {
                        value = TOps.WithElement(value, n - 1 - r0, 0);
                    }
                }
                TOps.Store(value, h, at);
                // The next strip's first row on this diagonal, for this strip's last row.
                h[at + rows] = belowHere;
                (afterNext, after) = (after, value);
                (belowNext, below) = (below, belowHere);
            }
        }
    }

    // The arrays one fill reads and writes: H and the two sides' attribute arrays, taken out once per fill.
    private readonly struct Lanes(short[] h, SuffixBoundTokens pivot, SuffixBoundTokens source)
    {
        public readonly short[] H = h;
        public readonly short[] PivotKey = pivot.Key, PivotLength = pivot.Length, PivotMaskLow = pivot.MaskLow, PivotMaskHigh = pivot.MaskHigh, PivotRepeats = pivot.Repeats;
        public readonly short[] SourceKey = source.Key, SourceLength = source.Length, SourceMaskLow = source.MaskLow, SourceMaskHigh = source.MaskHigh, SourceRepeats = source.Repeats;
    }

    // The vector operations the fill needs, over 16-bit lanes; loads and stores skip bounds checks (the attribute
    // arrays carry Spare slots before and after their positions, H's records a copy slot after each). All inlined: a call per vector operation costs more than
    // the operation.
    private interface IShortLanes<TV>
    {
        static abstract int Count { get; }
        static abstract TV Splat(short value);
        static abstract TV Load(short[] array, int at);
        static abstract void Store(TV value, short[] array, int at);
        static abstract TV Min(TV a, TV b);
        static abstract TV Max(TV a, TV b);
        static abstract TV Add(TV a, TV b);
        static abstract TV Subtract(TV a, TV b);
        static abstract TV And(TV a, TV b);
        static abstract TV Equal(TV a, TV b);
        static abstract TV AndNot(TV a, TV b);
        static abstract TV PopCountSum(TV a, TV b);
        static abstract TV LaneIndex();
        static abstract TV GreaterThan(TV a, TV b);
        static abstract TV Select(TV mask, TV a, TV b);
        static abstract TV WithElement(TV v, int index, short value);
        // Lanes 1 .. Count - 1 of x, then y: x moved one lane down with y coming in at the top.
        static abstract TV ShiftIn(TV x, short y);
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
        public static Vector512<short> Min(Vector512<short> a, Vector512<short> b) => Vector512.Min(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> Max(Vector512<short> a, Vector512<short> b) => Vector512.Max(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> Add(Vector512<short> a, Vector512<short> b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> Subtract(Vector512<short> a, Vector512<short> b) => a - b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> And(Vector512<short> a, Vector512<short> b) => a & b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> Equal(Vector512<short> a, Vector512<short> b) => Vector512.Equals(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> AndNot(Vector512<short> a, Vector512<short> b) => Vector512.AndNot(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> LaneIndex() => Vector512<short>.Indices;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> GreaterThan(Vector512<short> a, Vector512<short> b) => Vector512.GreaterThan(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> Select(Vector512<short> mask, Vector512<short> a, Vector512<short> b) => Vector512.ConditionalSelect(mask, a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> WithElement(Vector512<short> v, int index, short value) => v.WithElement(index, value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> ShiftIn(Vector512<short> x, short y)
        {
            if (Avx512BW.IsSupported)
            {
                // One two-source permute: indices 1 .. 31 from x, 32 (the first lane of the second source) for y.
                return Avx512BW.PermuteVar32x16x2(x, Vector512<short>.Indices + Vector512<short>.One, Vector512.CreateScalarUnsafe(y));
            }
            return Vector512.Shuffle(x, Vector512<short>.Indices + Vector512<short>.One).WithElement(Vector512<short>.Count - 1, y);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<short> PopCountSum(Vector512<short> a, Vector512<short> b)
        {
            if (Avx512BW.IsSupported)
            {
                // Per-byte counts from a 16-entry table per nibble (vpshufb), both masks' bytes added (at most 16),
                // then each lane's two bytes summed.
                var nibble = Vector512.Create((byte)0x0F);
                var table = Vector512.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                    0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                    0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
                var p = a.AsByte();
                var q = b.AsByte();
                var bytes = Avx512BW.Shuffle(table, p & nibble) + Avx512BW.Shuffle(table, Vector512.ShiftRightLogical(p.AsUInt16(), 4).AsByte() & nibble)
                    + Avx512BW.Shuffle(table, q & nibble) + Avx512BW.Shuffle(table, Vector512.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & nibble);
                var lanes = bytes.AsUInt16();
                return ((lanes + Vector512.ShiftRightLogical(lanes, 8)) & Vector512.Create((ushort)0x00FF)).AsInt16();
            }
            // Both counted to 2-bit and then 4-bit fields, added there (at most 8 per nibble), then summed per lane.
            var x = a.AsUInt16();
            var y = b.AsUInt16();
            var m1 = Vector512.Create((ushort)0x5555);
            var m2 = Vector512.Create((ushort)0x3333);
            var m4 = Vector512.Create((ushort)0x0F0F);
            x -= Vector512.ShiftRightLogical(x, 1) & m1;
            y -= Vector512.ShiftRightLogical(y, 1) & m1;
            var z = (x & m2) + (Vector512.ShiftRightLogical(x, 2) & m2) + (y & m2) + (Vector512.ShiftRightLogical(y, 2) & m2);
            z = (z & m4) + (Vector512.ShiftRightLogical(z, 4) & m4);
            return ((z + Vector512.ShiftRightLogical(z, 8)) & Vector512.Create((ushort)0x003F)).AsInt16();
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
        public static Vector256<short> Min(Vector256<short> a, Vector256<short> b) => Vector256.Min(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> Max(Vector256<short> a, Vector256<short> b) => Vector256.Max(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> Add(Vector256<short> a, Vector256<short> b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> Subtract(Vector256<short> a, Vector256<short> b) => a - b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> And(Vector256<short> a, Vector256<short> b) => a & b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> Equal(Vector256<short> a, Vector256<short> b) => Vector256.Equals(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> AndNot(Vector256<short> a, Vector256<short> b) => Vector256.AndNot(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> LaneIndex() => Vector256<short>.Indices;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> GreaterThan(Vector256<short> a, Vector256<short> b) => Vector256.GreaterThan(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> Select(Vector256<short> mask, Vector256<short> a, Vector256<short> b) => Vector256.ConditionalSelect(mask, a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> WithElement(Vector256<short> v, int index, short value) => v.WithElement(index, value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> ShiftIn(Vector256<short> x, short y)
        {
            if (Avx512BW.VL.IsSupported)
            {
                // One two-source permute: indices 1 .. 15 from x, 16 (the first lane of the second source) for y.
                return Avx512BW.VL.PermuteVar16x16x2(x, Vector256<short>.Indices + Vector256<short>.One, Vector256.CreateScalarUnsafe(y));
            }
            if (Avx2.IsSupported)
            {
                // [x's upper half, y] next to x, shifted right by one lane within each 128-bit half.
                return Avx2.AlignRight(Avx2.Permute2x128(x, Vector256.CreateScalarUnsafe(y), 0x21), x, 2);
            }
            return Vector256.Shuffle(x, Vector256<short>.Indices + Vector256<short>.One).WithElement(Vector256<short>.Count - 1, y);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<short> PopCountSum(Vector256<short> a, Vector256<short> b)
        {
            // Both counted to 2-bit and then 4-bit fields, added there (at most 8 per nibble), then summed per lane.
            var x = a.AsUInt16();
            var y = b.AsUInt16();
            var m1 = Vector256.Create((ushort)0x5555);
            var m2 = Vector256.Create((ushort)0x3333);
            var m4 = Vector256.Create((ushort)0x0F0F);
            x -= Vector256.ShiftRightLogical(x, 1) & m1;
            y -= Vector256.ShiftRightLogical(y, 1) & m1;
            var z = (x & m2) + (Vector256.ShiftRightLogical(x, 2) & m2) + (y & m2) + (Vector256.ShiftRightLogical(y, 2) & m2);
            z = (z & m4) + (Vector256.ShiftRightLogical(z, 4) & m4);
            return ((z + Vector256.ShiftRightLogical(z, 8)) & Vector256.Create((ushort)0x003F)).AsInt16();
        }
    }

    /// <summary>The cell bound of pivot position <paramref name="i"/> against reversed source position <paramref name="k"/> (the scalar form of the vector code).</summary>
    public static short CellBound(SuffixBoundTokens pivot, int i, SuffixBoundTokens sourceReversed, int k)
    {
        i += Spare;
        k += Spare;
        if (pivot.Key[i] == sourceReversed.Key[k])
        {
            return 0;
        }
        var shared = BitOperations.PopCount((uint)(ushort)(pivot.MaskLow[i] & sourceReversed.MaskLow[k]))
            + BitOperations.PopCount((uint)(ushort)(pivot.MaskHigh[i] & sourceReversed.MaskHigh[k]));
        var longer = Math.Max(pivot.Length[i], sourceReversed.Length[k]);
        return (short)Math.Max(1, longer - Math.Min(pivot.Repeats[i], sourceReversed.Repeats[k]) - shared);
    }

}
