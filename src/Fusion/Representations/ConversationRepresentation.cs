namespace FuseChat.Fusion.Representations;

/// <summary>
/// Stage 1's output for one conversation and one model: its tokens and, for every trained position t
/// (position t predicts token t+1, which is trained), the top-K logits of z_t and their token ids.
/// </summary>
/// <param name="ConversationIndex">0-based index of the conversation in the data file.</param>
/// <param name="Id">The conversation's id.</param>
/// <param name="MetricCe">Mean over trained positions of CE(z_t, y_{t+1}) (natural log).</param>
/// <param name="Truncated">True when the conversation was cut to the model's longest sequence.</param>
/// <param name="InputIds">Token ids as the model saw them (after any truncation).</param>
/// <param name="Trained">Per token of <paramref name="InputIds"/>, whether it is a trained label.</param>
/// <param name="Positions">The trained positions t, ascending (Trained[t + 1] holds for each).</param>
/// <param name="TopK">Entries per position.</param>
/// <param name="TopKIds">[Positions.Length * TopK] token ids, row-major, best first.</param>
/// <param name="TopKLogits">[Positions.Length * TopK] logits matching <paramref name="TopKIds"/>.</param>
public sealed record ConversationRepresentation(
    long ConversationIndex,
    string Id,
    float MetricCe,
    bool Truncated,
    int[] InputIds,
    bool[] Trained,
    int[] Positions,
    int TopK,
    int[] TopKIds,
    Half[] TopKLogits)
{
    /// <summary>The top-K token ids of the i-th trained position.</summary>
    public ReadOnlySpan<int> IdsAt(int i) => TopKIds.AsSpan(i * TopK, TopK);

    /// <summary>The top-K logits of the i-th trained position.</summary>
    public ReadOnlySpan<Half> LogitsAt(int i) => TopKLogits.AsSpan(i * TopK, TopK);

    /// <summary>Whether two representations hold the same values (arrays compared element by element).</summary>
    public bool ContentEquals(ConversationRepresentation? other) =>
        other is not null
        && ConversationIndex == other.ConversationIndex && Id == other.Id
        && MetricCe.Equals(other.MetricCe) && Truncated == other.Truncated && TopK == other.TopK
        && InputIds.AsSpan().SequenceEqual(other.InputIds) && Trained.AsSpan().SequenceEqual(other.Trained)
        && Positions.AsSpan().SequenceEqual(other.Positions) && TopKIds.AsSpan().SequenceEqual(other.TopKIds)
        && TopKLogits.AsSpan().SequenceEqual(other.TopKLogits);
}
