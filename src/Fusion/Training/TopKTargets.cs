using FuseChat.Fusion.Alignment;

namespace FuseChat.Fusion.Training;

/// <summary>
/// Top-K target logits of one conversation: <see cref="K"/> slots per position, flat row-major arrays.
/// An unused slot has logit −∞ (its id is irrelevant; 0 when produced here); a position whose slots are all
/// −∞ has no target ("no entry").
/// </summary>
public sealed class TopKTargets
{
    /// <summary>Wraps arrays of <paramref name="length"/> × <paramref name="k"/> slots (not copied).</summary>
    public TopKTargets(int length, int k, long[] ids, float[] logits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(logits);
        if (ids.Length != (long)length * k || logits.Length != ids.Length)
            throw new ArgumentException($"ids ({ids.Length}) and logits ({logits.Length}) must hold {length} x {k} slots");
        Length = length;
        K = k;
        Ids = ids;
        Logits = logits;
    }

    /// <summary>Number of positions.</summary>
    public int Length { get; }

    /// <summary>Slots per position.</summary>
    public int K { get; }

    /// <summary>Token ids, <see cref="K"/> per position.</summary>
    public long[] Ids { get; }

    /// <summary>Logits matching <see cref="Ids"/>; −∞ for unused slots.</summary>
    public float[] Logits { get; }

    /// <summary>True when position <paramref name="position"/> has at least one used slot.</summary>
    public bool HasEntry(int position)
    {
        foreach (var x in Logits.AsSpan(position * K, K))
            if (!float.IsNegativeInfinity(x)) return true;
        return false;
    }

    /// <summary>
    /// Converts aligned distributions (unused slots: id −1, logit −∞) into targets whose unused slots
    /// hold id 0, so that every id can index the vocabulary.
    /// </summary>
    public static TopKTargets From(AlignedDistributions distributions)
    {
        ArgumentNullException.ThrowIfNull(distributions);
        var ids = new long[distributions.Ids.Length];
        var logits = new float[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            var used = distributions.Ids[i] >= 0 && !float.IsNegativeInfinity(distributions.Logits[i]);
            ids[i] = used ? distributions.Ids[i] : 0;
            logits[i] = used ? distributions.Logits[i] : float.NegativeInfinity;
        }
        return new TopKTargets(distributions.Length, distributions.K, ids, logits);
    }
}
