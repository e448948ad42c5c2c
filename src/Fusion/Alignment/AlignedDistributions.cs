namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Top-K target distributions over the pivot vocabulary, one per pivot position, as flat arrays of
/// <see cref="K"/> slots per position; unused slots hold id -1 and logit negative infinity.
/// </summary>
public sealed class AlignedDistributions
{
    /// <summary>Allocates empty distributions for <paramref name="length"/> positions of <paramref name="k"/> slots.</summary>
    public AlignedDistributions(int length, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        Length = length;
        K = k;
        Ids = new int[length * k];
        Logits = new float[length * k];
        Counts = new int[length];
        Kinds = new DistributionAlignmentKind[length];
        SourcePositions = new int[length];
        Array.Fill(Ids, -1);
        Array.Fill(Logits, float.NegativeInfinity);
        Array.Fill(SourcePositions, -1);
    }

    /// <summary>Number of pivot positions.</summary>
    public int Length { get; }

    /// <summary>Slots per position.</summary>
    public int K { get; }

    /// <summary>Pivot ids, <see cref="K"/> per position, in descending logit order.</summary>
    public int[] Ids { get; }

    /// <summary>Logits matching <see cref="Ids"/>.</summary>
    public float[] Logits { get; }

    /// <summary>Slots in use per position.</summary>
    public int[] Counts { get; }

    /// <summary>The rule that produced each position's distribution.</summary>
    public DistributionAlignmentKind[] Kinds { get; }

    /// <summary>The source position whose distribution was used for each pivot position; -1 for one-hot and no target.</summary>
    public int[] SourcePositions { get; }

    /// <summary>The used pivot ids of position <paramref name="position"/>.</summary>
    public ReadOnlySpan<int> IdsAt(int position) => Ids.AsSpan(position * K, Counts[position]);

    /// <summary>The used logits of position <paramref name="position"/>.</summary>
    public ReadOnlySpan<float> LogitsAt(int position) => Logits.AsSpan(position * K, Counts[position]);
}
