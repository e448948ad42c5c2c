namespace FuseChat.Fusion.Templates;

/// <summary>
/// The one rule that ties a conversation's trained tokens to a causal model's positions: position t predicts
/// token t + 1, so position t is trained, and labelled with token t + 1, exactly when token t + 1 is trained.
/// Representations, training, evaluation and the run plan all count with it, so they count the same positions.
/// </summary>
public static class NextTokenLabels
{
    /// <summary>The label of a position that is not trained (the cross-entropy's ignore index).</summary>
    public const long Ignore = -100;

    /// <summary>Whether position <paramref name="t"/> of the first <paramref name="length"/> tokens is trained.</summary>
    public static bool IsTrained(ReadOnlySpan<bool> trained, int length, int t) => t + 1 < length && trained[t + 1];

    /// <summary>The trained positions among the first <paramref name="length"/> tokens, ascending.</summary>
    public static int[] Positions(ReadOnlySpan<bool> trained, int length)
    {
        var positions = new List<int>();
        for (var t = 0; t + 1 < length; t++)
            if (trained[t + 1]) positions.Add(t);
        return [.. positions];
    }

    /// <summary>How many of the first <paramref name="length"/> positions are trained.</summary>
    public static int Count(ReadOnlySpan<bool> trained, int length)
    {
        var count = 0;
        for (var t = 0; t + 1 < length; t++)
            if (trained[t + 1]) count++;
        return count;
    }

    /// <summary>
    /// One label per position of the first <paramref name="length"/> tokens: the next token where it is trained,
    /// <see cref="Ignore"/> elsewhere (the last position always, having no next token).
    /// </summary>
    public static long[] For(ReadOnlySpan<int> ids, ReadOnlySpan<bool> trained, int length)
    {
        if (length > ids.Length || ids.Length != trained.Length)
            throw new ArgumentException($"{length} positions of {ids.Length} ids with {trained.Length} trained flags");
        var labels = new long[length];
        for (var t = 0; t < length; t++) labels[t] = IsTrained(trained, length, t) ? ids[t + 1] : Ignore;
        return labels;
    }
}
