namespace FuseChat.Fusion.Representations;

/// <summary>Totals of a finished representation pass, over all shards (those of earlier runs included).</summary>
/// <param name="Conversations">Conversations in the data file.</param>
/// <param name="Written">Conversations stored.</param>
/// <param name="Dropped">Conversations without a trained position (no metric_ce), not stored.</param>
/// <param name="Truncated">Conversations cut to the model's longest sequence.</param>
/// <param name="Tokens">Tokens stored.</param>
/// <param name="TrainedPositions">Trained positions stored (each with K logits and ids).</param>
/// <param name="Bytes">Bytes of all shard files.</param>
/// <param name="ShardsComputed">Shards computed by this run.</param>
/// <param name="ShardsSkipped">Shards found complete and kept.</param>
/// <param name="PaddedTokens">Padding tokens this run's batches computed.</param>
public sealed record RepresentationSummary(
    long Conversations,
    long Written,
    long Dropped,
    long Truncated,
    long Tokens,
    long TrainedPositions,
    long Bytes,
    int ShardsComputed,
    int ShardsSkipped,
    long PaddedTokens)
{
    /// <summary>Shard bytes per stored token (the storage budget's measure).</summary>
    public double BytesPerToken => Tokens == 0 ? 0 : (double)Bytes / Tokens;

    /// <summary>Shard bytes per stored trained position.</summary>
    public double BytesPerTrainedPosition => TrainedPositions == 0 ? 0 : (double)Bytes / TrainedPositions;
}
