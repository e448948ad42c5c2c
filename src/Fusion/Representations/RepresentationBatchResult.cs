namespace FuseChat.Fusion.Representations;

/// <summary>What <see cref="RepresentationComputer.Compute"/> produced for a list of inputs.</summary>
/// <param name="Records">Representations of the kept conversations, in input order.</param>
/// <param name="DroppedIds">Ids of conversations without any trained position (no metric: dropped).</param>
/// <param name="Truncated">Conversations cut to the model's longest sequence (kept or dropped).</param>
/// <param name="Tokens">Tokens run through the model, truncation applied, padding excluded.</param>
/// <param name="PaddedTokens">Padding tokens the batches added (the cost of batching unequal lengths).</param>
public sealed record RepresentationBatchResult(
    IReadOnlyList<ConversationRepresentation> Records,
    IReadOnlyList<string> DroppedIds,
    int Truncated,
    long Tokens,
    long PaddedTokens);
