using System.Numerics;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// One side's tokens as <see cref="SuffixLowerBound"/> reads them, one 16-bit lane per position (the source side is
/// stored reversed): the comparison form's number (equal numbers: cost 0), the stripped length, the 16-bucket
/// character mask and the number of buckets it uses. Each array has <see cref="SuffixLowerBound.Spare"/> slots past
/// the last position for the vector loads' overrun. Reused from pair to pair.
/// </summary>
internal sealed class SuffixBoundTokens
{
    /// <summary>Form numbers.</summary>
    public short[] Key { get; private set; } = [];

    /// <summary>Stripped lengths, capped at <see cref="SuffixLowerBound.LengthCap"/>.</summary>
    public short[] Length { get; private set; } = [];

    /// <summary>Character bucket masks.</summary>
    public short[] Mask { get; private set; } = [];

    /// <summary>Buckets set in each mask.</summary>
    public short[] Buckets { get; private set; } = [];

    /// <summary>Makes room for <paramref name="count"/> positions.</summary>
    public void Ensure(int count)
    {
        if (Key.Length < count + SuffixLowerBound.Spare)
        {
            var size = count + SuffixLowerBound.Spare;
            (Key, Length, Mask, Buckets) = (new short[size], new short[size], new short[size], new short[size]);
        }
    }

    /// <summary>Position <paramref name="at"/> takes position <paramref name="from"/> of <paramref name="source"/>.</summary>
    public void CopyFrom(SuffixBoundTokens source, int from, int at)
    {
        Key[at] = source.Key[from];
        Length[at] = source.Length[from];
        Mask[at] = source.Mask[from];
        Buckets[at] = source.Buckets[from];
    }

    /// <summary>Sets position <paramref name="at"/>.</summary>
    public void Set(int at, short key, int length, short mask)
    {
        Key[at] = key;
        Length[at] = (short)Math.Min(length, SuffixLowerBound.LengthCap);
        Mask[at] = mask;
        Buckets[at] = (short)BitOperations.PopCount((uint)(ushort)mask);
    }
}
