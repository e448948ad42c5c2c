using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Starts a pair's dense cost table (<see cref="DtwTokenTable"/>) with every entry whose cost is known without an
/// edit distance, all at once and vectorised, instead of zeros that the DTW's passes fill one miss at a time.
/// </summary>
/// <remarks>
/// Two kinds of entry are exact from the token attributes alone, for two non-empty stripped forms (the forms the cost
/// compares unless a side is a bare marker): equal forms cost 0, and forms that share no character bucket share no
/// character, so no edit script matches any and the cost is the longer length. On the bench's real windows (scratch
/// counters, not a bench/ figure) the second kind was 54% of the lookups that missed the table in prose and 68% in
/// the stress corpus, equal forms another 10% and 2%: each of those was a call with a few unpredictable branches, and
/// the misses per window fell from 3.1k to 1.1k (prose) and 8.8k to 2.6k (stress). The disjoint test runs over every
/// (pivot, source) entry in byte lanes (the mask's four bytes ANDed and ORed, one max for the length) as it writes
/// the table, which had to be cleared anyway; equal forms are marked by a pass over each side grouped by form number.
/// Every other entry stays 0 (unknown, computed when a pass reaches it); bare markers compare in their unified form
/// and are left to that path.
/// </remarks>
internal sealed class DtwKnownCosts
{
    // Per source local id: the character mask's four bytes and the length + 1 (capped: an entry stores at most
    // Overflow), in byte lanes; a bare marker, and the padding past the last source, get a full mask (they share a
    // bucket with every non-empty token, so nothing is written for them).
    private byte[] _mask0 = new byte[256];
    private byte[] _mask1 = new byte[256];
    private byte[] _mask2 = new byte[256];
    private byte[] _mask3 = new byte[256];
    private byte[] _length = new byte[256];

    // Sources by form: the first source of each form number, and the next source of the same form.
    private int[] _firstOfForm = new int[256];
    private int[] _nextOfForm = new int[256];

    // Distinct forms up to which DtwTokenTable.FormKey numbers are unique.
    private const int FormLimit = 1 << 15;

    /// <summary>Bytes the dense table must hold past the pair's last entry: rows are written in whole vectors.</summary>
    public static int Slack => Vector<byte>.Count;

    /// <summary>
    /// Writes every entry of the pivots x sources table at <c>dense[pivot * sourceCount + source]</c>: cost + 1 where
    /// known, else 0. Equal forms are found by <see cref="DtwTokenTable.FormKey"/>'s numbers while those are unique
    /// (up to 2^15 forms in the pair).
    /// </summary>
    public void Fill(DtwTokenTable table, byte[] dense, int pivotCount, int sourceCount)
    {
        var padded = (sourceCount + Slack - 1) / Slack * Slack;
        if (_length.Length < padded)
        {
            var size = Math.Max(padded, 2 * _length.Length);
            (_mask0, _mask1, _mask2, _mask3, _length) = (new byte[size], new byte[size], new byte[size], new byte[size], new byte[size]);
        }
        for (var s = 0; s < padded; s++)
        {
            var t = s < sourceCount ? table.Source(s) : null;
            var mask = t is null || t.Length == 0 ? uint.MaxValue : t.Mask;
            (_mask0[s], _mask1[s], _mask2[s], _mask3[s]) = ((byte)mask, (byte)(mask >> 8), (byte)(mask >> 16), (byte)(mask >> 24));
            _length[s] = LengthEntry(t?.Length ?? 0);
        }
        ref var mask0 = ref MemoryMarshal.GetArrayDataReference(_mask0);
        ref var mask1 = ref MemoryMarshal.GetArrayDataReference(_mask1);
        ref var mask2 = ref MemoryMarshal.GetArrayDataReference(_mask2);
        ref var mask3 = ref MemoryMarshal.GetArrayDataReference(_mask3);
        ref var length = ref MemoryMarshal.GetArrayDataReference(_length);
        ref var row = ref MemoryMarshal.GetArrayDataReference(dense);
        for (var p = 0; p < pivotCount; p++, row = ref Unsafe.Add(ref row, sourceCount))
        {
            var t = table.Pivot(p);
            if (t.Length == 0)
            {
                Unsafe.InitBlockUnaligned(ref row, 0, (uint)sourceCount);
                continue;
            }
            var p0 = new Vector<byte>((byte)t.Mask);
            var p1 = new Vector<byte>((byte)(t.Mask >> 8));
            var p2 = new Vector<byte>((byte)(t.Mask >> 16));
            var p3 = new Vector<byte>((byte)(t.Mask >> 24));
            var pLength = new Vector<byte>(LengthEntry(t.Length));
            // The last step may run past this row into the next one's entries (written again by that row) or into
            // the table's slack.
            for (nuint s = 0; s < (nuint)sourceCount; s += (nuint)Vector<byte>.Count)
            {
                var shared = (p0 & Vector.LoadUnsafe(ref mask0, s)) | (p1 & Vector.LoadUnsafe(ref mask1, s))
                    | (p2 & Vector.LoadUnsafe(ref mask2, s)) | (p3 & Vector.LoadUnsafe(ref mask3, s));
                var longer = Vector.Max(pLength, Vector.LoadUnsafe(ref length, s));
                (Vector.Equals(shared, Vector<byte>.Zero) & longer).StoreUnsafe(ref row, s);
            }
        }
        MarkEqualForms(table, dense, pivotCount, sourceCount);
    }

    // The entry of a disjoint pair whose longer side has this length: length + 1, Overflow (compute on use) from
    // Overflow - 1 on.
    private static byte LengthEntry(int length) => (byte)(Math.Min(length, DtwTokenTable.Overflow - 1) + 1);

    // Entry 1 (cost 0) for every pivot and source of one non-empty stripped form: a pass over each side, by form.
    private void MarkEqualForms(DtwTokenTable table, byte[] dense, int pivotCount, int sourceCount)
    {
        for (var p = 0; p < pivotCount; p++)
        {
            table.FormKey(table.Pivot(p));
        }
        for (var s = 0; s < sourceCount; s++)
        {
            table.FormKey(table.Source(s));
        }
        var forms = table.FormCount;
        if (forms > FormLimit)
        {
            // Form numbers repeat past 2^15 forms: equal numbers no longer mean equal forms, and those entries stay
            // unknown (they are computed when reached).
            return;
        }
        if (_firstOfForm.Length < forms)
        {
            _firstOfForm = new int[Math.Max(forms, 2 * _firstOfForm.Length)];
        }
        if (_nextOfForm.Length < sourceCount)
        {
            _nextOfForm = new int[Math.Max(sourceCount, 2 * _nextOfForm.Length)];
        }
        _firstOfForm.AsSpan(0, forms).Fill(-1);
        for (var s = sourceCount - 1; s >= 0; s--)
        {
            var t = table.Source(s);
            if (t.Length > 0)
            {
                var form = table.FormKey(t);
                _nextOfForm[s] = _firstOfForm[form];
                _firstOfForm[form] = s;
            }
        }
        for (var p = 0; p < pivotCount; p++)
        {
            var t = table.Pivot(p);
            if (t.Length == 0)
            {
                continue;
            }
            for (var s = _firstOfForm[table.FormKey(t)]; s >= 0; s = _nextOfForm[s])
            {
                dense[(long)p * sourceCount + s] = 1;
            }
        }
    }
}
