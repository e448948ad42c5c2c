namespace FuseChat.Fusion.Alignment;

/// <summary>What an alignment run did.</summary>
/// <param name="Conversations">Pivot conversations written.</param>
/// <param name="WithoutSource">Conversations the source had dropped (trained on the pivot's own targets).</param>
/// <param name="Identity">True when the vocabularies were identical and alignment was skipped.</param>
/// <param name="Positions">Pivot trained positions written.</param>
/// <param name="OneHotPositions">Positions that fell back to a one-hot target on the gold token.</param>
/// <param name="EmptyPositions">Positions with no usable source entry (the pivot's own top-K is used there).</param>
/// <param name="ShardsComputed">Shards computed by this run (the rest were complete already).</param>
public sealed record AlignmentSummary(long Conversations, long WithoutSource, bool Identity, long Positions, long OneHotPositions,
    long EmptyPositions, int ShardsComputed);
