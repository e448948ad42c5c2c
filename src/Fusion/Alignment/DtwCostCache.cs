namespace FuseChat.Fusion.Alignment;

/// <summary>
/// The process-wide caches behind <see cref="DynamicTimeWarping"/>: every distinct token string seen (its
/// comparison forms and an id) and the cost of every distinct (pivot token, source token) pair computed, shared
/// by all threads and all conversation pairs, since the same token pairs recur throughout a corpus.
/// </summary>
/// <remarks>
/// Bounded: the cost table holds at most 64 MiB (<see cref="MaxCostBytes"/>; full shards are cleared), and the
/// token registry at most <see cref="MaxTokens"/> strings, after which it starts afresh together with its cost
/// table (pairs still running finish on the old generation, which is then collected).
/// </remarks>
public static class DtwCostCache
{
    /// <summary>Most bytes the cost table allocates.</summary>
    public const long MaxCostBytes = DtwCostTable.MaxBytes;

    /// <summary>Most distinct token strings the registry keeps before starting afresh.</summary>
    public const int MaxTokens = DtwTokenRegistry.TokenLimit;

    /// <summary>Forgets every token and cost: the next alignment starts cold.</summary>
    public static void Clear() => DtwTokenRegistry.Reset();

    /// <summary>Bytes the current cost table has allocated.</summary>
    public static long CostBytes => DtwTokenRegistry.Current.Costs.AllocatedBytes;

    /// <summary>Distinct token strings in the current registry.</summary>
    public static int Tokens => DtwTokenRegistry.Current.Count;
}
