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
/// <para>Speed: the matrix is filled by anti-diagonals, whose cells are independent, 32 cells per 512-bit vector of
/// 16-bit values where the hardware has 512-bit vectors, 16 per 256-bit vector elsewhere (values are capped at
/// <see cref="Cap"/>; a capped bound is still a consistent lower bound). Each diagonal is stored contiguously with
/// one sentinel before and a vector's overrun plus one slot after it, so the vector loads of the two following
/// diagonals need no bounds handling. Source attributes are stored reversed, so a diagonal's source tokens are
/// contiguous too.</para>
/// </remarks>
internal static class SuffixLowerBound
{
    /// <summary>Largest stored bound; also the value past the matrix's edge.</summary>
    public const short Cap = 30000;

    /// <summary>Largest length used in the bound (keeps sums of a cost and a capped value in 16 bits).</summary>
    public const int LengthCap = 2000;

    /// <summary>Spare slots at the end of the attribute arrays: a vector's overrun.</summary>
    public const int Spare = 32;

    /// <summary>Slots a diagonal takes besides its cells: one sentinel before, a vector's overrun + 1 after.</summary>
    public const int Padding = Spare + 2;

    /// <summary>Cells of diagonal d (i + j = d) of an n x m matrix: rows lo .. hi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (int Lo, int Hi) Rows(int d, int n, int m) => (Math.Max(0, d - (m - 1)), Math.Min(n - 1, d));

    /// <summary>Storage needed for an n x m matrix, in 16-bit slots (the cells, padding, and 3 slots past the end).</summary>
    public static long Slots(int n, int m) => (long)n * m + (long)Padding * (n + m - 1) + 3;

    /// <summary>
    /// Fills <paramref name="h"/>: H(i, j) at <c>h[diagonalBase[i + j] + i]</c> (<paramref name="diagonalBase"/> has
    /// n + m + 1 entries: two past the last diagonal, for the successors of the last cells), from the pivot's tokens
    /// and the source's, the latter stored reversed (position m - 1 - j).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(int n, int m, SuffixBoundTokens pivot, SuffixBoundTokens sourceReversed, short[] h, int[] diagonalBase)
    {
        var diagonals = n + m - 1;
        var offset = 0;
        for (var d = 0; d < diagonals; d++)
        {
            var (lo, hi) = Rows(d, n, m);
            h[offset] = Cap;
            diagonalBase[d] = offset + 1 - lo;
            offset += hi - lo + 1 + Padding;
        }
        var last = diagonals - 1;
        // One more, past the end, for the bounds of the last cells' missing successors: 0 at row n-1 (so that
        // (n-1, m-1), whose remaining cost is 0, reads 0; for (n-2, m-1) it is merely a weaker bound) and the cap
        // at row n. Diagonal last + 2 is only read at row n, so it shares these slots.
        diagonalBase[last + 1] = diagonalBase[last + 2] = offset + 1 - (n - 1);
        h[offset + 1] = 0;
        h[offset + 2] = Cap;
        h[diagonalBase[last] + n - 1] = CellBound(pivot, n - 1, sourceReversed, 0);
        h[diagonalBase[last] + n] = Cap;
        var lanes = new Lanes(h, pivot, sourceReversed);
        if (Vector512.IsHardwareAccelerated)
        {
            FillDiagonals<Vector512<short>, Wide>(n, m, lanes, diagonalBase);
        }
        else
        {
            FillDiagonals<Vector256<short>, Narrow>(n, m, lanes, diagonalBase);
        }
    }

    // Diagonals last - 1 down to 0, TOps.Count cells at a time (one generic body for both vector widths; the JIT
    // compiles one specialised copy per struct type, with no indirection).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FillDiagonals<TV, TOps>(int n, int m, Lanes lanes, int[] diagonalBase)
        where TOps : struct, IShortLanes<TV>
    {
        var last = n + m - 2;
        var h = lanes.H;
        var one = TOps.Splat(1);
        var cap = TOps.Splat(Cap);
        for (var d = last - 1; d >= 0; d--)
        {
            var (lo, hi) = Rows(d, n, m);
            int b0 = diagonalBase[d], b1 = diagonalBase[d + 1];
            var hasDiagonal = d + 2 <= last;
            // One past the matrix (d = last - 1): the diagonal successor does not exist.
            var b2 = hasDiagonal ? diagonalBase[d + 2] : b1;
            var shift = m - 1 - d;
            for (var i = lo; i <= hi; i += TOps.Count)
            {
                var next = TOps.Min(TOps.Load(h, b1 + i), TOps.Load(h, b1 + i + 1));
                if (hasDiagonal)
                {
                    next = TOps.Min(next, TOps.Load(h, b2 + i + 1));
                }
                var k = i + shift;
                var equal = TOps.Equal(TOps.Load(lanes.PivotKey, i), TOps.Load(lanes.SourceKey, k));
                var longer = TOps.Max(TOps.Load(lanes.PivotLength, i), TOps.Load(lanes.SourceLength, k));
                var repeats = TOps.Min(TOps.Load(lanes.PivotRepeats, i), TOps.Load(lanes.SourceRepeats, k));
                // The longer length minus the most characters an edit script can match (see the remarks).
                var shared = TOps.PopCountSum(
                    TOps.And(TOps.Load(lanes.PivotMaskLow, i), TOps.Load(lanes.SourceMaskLow, k)),
                    TOps.And(TOps.Load(lanes.PivotMaskHigh, i), TOps.Load(lanes.SourceMaskHigh, k)));
                var cost = TOps.AndNot(TOps.Max(TOps.Subtract(TOps.Subtract(longer, repeats), shared), one), equal);
                TOps.Store(TOps.Min(TOps.Add(cost, next), cap), h, b0 + i);
            }
            // The vector's overrun wrote past the diagonal's end: restore the sentinel the next diagonals read.
            h[b0 + hi + 1] = Cap;
        }
    }

    // The arrays one fill reads and writes: H and the two sides' attribute arrays, taken out once per fill.
    private readonly struct Lanes(short[] h, SuffixBoundTokens pivot, SuffixBoundTokens source)
    {
        public readonly short[] H = h;
        public readonly short[] PivotKey = pivot.Key, PivotLength = pivot.Length, PivotMaskLow = pivot.MaskLow, PivotMaskHigh = pivot.MaskHigh, PivotRepeats = pivot.Repeats;
        public readonly short[] SourceKey = source.Key, SourceLength = source.Length, SourceMaskLow = source.MaskLow, SourceMaskHigh = source.MaskHigh, SourceRepeats = source.Repeats;
    }

    // The vector operations the fill needs, over 16-bit lanes; loads and stores skip bounds checks (the callers'
    // arrays carry Spare or Padding slots for the overrun). All inlined: a call per vector operation costs more than
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
