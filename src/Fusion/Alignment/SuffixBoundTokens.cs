using System.Numerics;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// One side's tokens as <see cref="SuffixLowerBound"/> reads them, one 16-bit lane per position (the source side is
/// stored reversed): the comparison form's number (equal numbers: cost 0), the stripped length, the 32-bucket
/// character mask in parts of one bit group per byte and the length beyond the buckets it uses (characters that
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

    /// <summary>Part 0 of the character mask: buckets 0-3 and 8-11 (mask &amp; 0x0F0F), or with
    /// <see cref="SuffixLowerBound.SixBitParts"/> buckets 0-5 and 6-11, one group per byte.</summary>
    public short[] Mask0 { get; private set; } = [];

    /// <summary>Part 1: buckets 4-7 and 12-15, or 12-17 and 18-23.</summary>
    public short[] Mask1 { get; private set; } = [];

    /// <summary>Part 2: buckets 16-19 and 24-27, or 24-29 and 30-31.</summary>
    public short[] Mask2 { get; private set; } = [];

    /// <summary>Part 3: buckets 20-23 and 28-31, or nothing (0).</summary>
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
        // Each byte its own index into a bit-count table: 6 bits for the 64-entry table of vpermb, else a nibble.
        if (SuffixLowerBound.SixBitParts)
        {
            Mask0[at] = (short)((mask & 0x3F) | ((mask >> 6) & 0x3F) << 8);
            Mask1[at] = (short)(((mask >> 12) & 0x3F) | ((mask >> 18) & 0x3F) << 8);
            Mask2[at] = (short)(((mask >> 24) & 0x3F) | ((mask >> 30) & 0x3) << 8);
            Mask3[at] = 0;
        }
        else
        {
            Mask0[at] = (short)(mask & 0x0F0F);
            Mask1[at] = (short)((mask >> 4) & 0x0F0F);
            Mask2[at] = (short)((mask >> 16) & 0x0F0F);
            Mask3[at] = (short)((mask >> 20) & 0x0F0F);
        }
        // A bare marker (length 0, empty mask) has none; otherwise every bucket used holds at least one character.
        Repeats[at] = (short)Math.Max(0, capped - BitOperations.PopCount(mask));
    }
}
