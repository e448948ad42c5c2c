using System.Numerics;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// One side's tokens as <see cref="SuffixLowerBound"/> reads them, one 16-bit lane per position (the source side is
/// stored reversed): the comparison form's number (equal numbers: cost 0), the stripped length, the 32-bucket
/// character mask in four parts of one nibble per byte and the length beyond the buckets it uses (characters that
/// share a bucket with another). Position p is at index <see cref="SuffixLowerBound.Spare"/> + p: each array has that many slots before
/// the first position and after the last one, for the vector loads that reach past either end. Reused from pair to
/// pair.
/// </summary>
internal sealed class SuffixBoundTokens
{
    /// <summary>Form numbers.</summary>
    public short[] Key { get; private set; } = [];

    /// <summary>Stripped lengths, capped at <see cref="SuffixLowerBound.LengthCap"/>.</summary>
    public short[] Length { get; private set; } = [];

    /// <summary>Character buckets 0-3 and 8-11 (mask &amp; 0x0F0F).</summary>
    public short[] Mask0 { get; private set; } = [];

    /// <summary>Character buckets 4-7 and 12-15 ((mask &gt;&gt; 4) &amp; 0x0F0F).</summary>
    public short[] Mask1 { get; private set; } = [];

    /// <summary>Character buckets 16-19 and 24-27 ((mask &gt;&gt; 16) &amp; 0x0F0F).</summary>
    public short[] Mask2 { get; private set; } = [];

    /// <summary>Character buckets 20-23 and 28-31 ((mask &gt;&gt; 20) &amp; 0x0F0F).</summary>
    public short[] Mask3 { get; private set; } = [];

    /// <summary>Length minus the buckets set in the mask: at most this many characters fall in buckets the other
    /// token also uses, whatever the other token is.</summary>
    public short[] Repeats { get; private set; } = [];

    /// <summary>Makes room for <paramref name="count"/> positions.</summary>
    public void Ensure(int count)
    {
        if (Key.Length < count + 2 * SuffixLowerBound.Spare)
        {
            var size = count + 2 * SuffixLowerBound.Spare;
            (Key, Length, Repeats) = (new short[size], new short[size], new short[size]);
            (Mask0, Mask1, Mask2, Mask3) = (new short[size], new short[size], new short[size], new short[size]);
        }
    }

    /// <summary>Position <paramref name="at"/> takes position <paramref name="from"/> of <paramref name="source"/>.</summary>
    public void CopyFrom(SuffixBoundTokens source, int from, int at)
    {
        from += SuffixLowerBound.Spare;
        at += SuffixLowerBound.Spare;
        Key[at] = source.Key[from];
        Length[at] = source.Length[from];
        Mask0[at] = source.Mask0[from];
        Mask1[at] = source.Mask1[from];
        Mask2[at] = source.Mask2[from];
        Mask3[at] = source.Mask3[from];
        Repeats[at] = source.Repeats[from];
    }

    /// <summary>Sets position <paramref name="at"/>.</summary>
    public void Set(int at, short key, int length, uint mask)
    {
        at += SuffixLowerBound.Spare;
        Key[at] = key;
        var capped = (short)Math.Min(length, SuffixLowerBound.LengthCap);
        Length[at] = capped;
        // One nibble per byte: each byte is then its own index into a 16-entry bit-count table.
        Mask0[at] = (short)(mask & 0x0F0F);
        Mask1[at] = (short)((mask >> 4) & 0x0F0F);
        Mask2[at] = (short)((mask >> 16) & 0x0F0F);
        Mask3[at] = (short)((mask >> 20) & 0x0F0F);
        // A bare marker (length 0, empty mask) has none; otherwise every bucket used holds at least one character.
        Repeats[at] = (short)Math.Max(0, capped - BitOperations.PopCount(mask));
    }
}
