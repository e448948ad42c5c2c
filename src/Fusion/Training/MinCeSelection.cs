namespace FuseChat.Fusion.Training;

/// <summary>
/// FuseChat's MinCE choice of target distributions per conversation (METHOD.md stage 3): with
/// r = exp(−metric_ce), the source's distributions are used when r_source &gt; r_pivot, else the pivot's own
/// (ties go to the pivot). Positions where the chosen source has no entry fall back to the pivot's own top-K.
/// </summary>
public static class MinCeSelection
{
    /// <summary>
    /// True when the source's distributions should be used. A missing metric (NaN: a conversation without
    /// trained positions) never wins, so such a conversation keeps the pivot's distributions.
    /// </summary>
    public static bool PrefersSource(double pivotMetricCe, double sourceMetricCe)
    {
        if (double.IsNaN(sourceMetricCe)) return false;
        if (double.IsNaN(pivotMetricCe)) return true;
        // exp(-x) is strictly decreasing, so comparing the exponentials as written in the paper is the same as
        // comparing the metrics; they are computed as written so that equal r (even after underflow) ties.
        return Math.Exp(-sourceMetricCe) > Math.Exp(-pivotMetricCe);
    }

    /// <summary>
    /// The targets of one conversation: the source's (with per-position fallback to the pivot's) when
    /// <see cref="PrefersSource"/>, else the pivot's own. The result has max(K_pivot, K_source) slots per
    /// position; extra slots are padding (id 0, logit −∞).
    /// </summary>
    /// <param name="pivot">The pivot's own top-K on this conversation.</param>
    /// <param name="pivotMetricCe">The pivot's mean CE on this conversation.</param>
    /// <param name="source">The source's top-K mapped to the pivot's positions and vocabulary, or null when absent.</param>
    /// <param name="sourceMetricCe">The source's mean CE on this conversation.</param>
    /// <returns>The targets and whether the source was chosen.</returns>
    public static (TopKTargets Targets, bool UsedSource) Select(TopKTargets pivot, double pivotMetricCe, TopKTargets? source, double sourceMetricCe)
    {
        ArgumentNullException.ThrowIfNull(pivot);
        if (source is not null && source.Length != pivot.Length)
            throw new ArgumentException($"source targets cover {source.Length} positions, the pivot's {pivot.Length}", nameof(source));
        var useSource = source is not null && PrefersSource(pivotMetricCe, sourceMetricCe);
        var k = Math.Max(pivot.K, source?.K ?? 0);
        var ids = new long[(long)pivot.Length * k];
        var logits = new float[ids.Length];
        Array.Fill(logits, float.NegativeInfinity);
        for (var t = 0; t < pivot.Length; t++)
        {
            var from = useSource && source!.HasEntry(t) ? source : pivot;
            Array.Copy(from.Ids, (long)t * from.K, ids, (long)t * k, from.K);
            Array.Copy(from.Logits, (long)t * from.K, logits, (long)t * k, from.K);
        }
        // Unused slots must still index the vocabulary when gathered.
        for (var i = 0; i < ids.Length; i++)
            if (float.IsNegativeInfinity(logits[i])) ids[i] = 0;
        return (new TopKTargets(pivot.Length, k, ids, logits), useSource);
    }
}
