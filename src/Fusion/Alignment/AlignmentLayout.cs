namespace FuseChat.Fusion.Alignment;

/// <summary>How an alignment divides into units (see <see cref="AlignmentRunner.Prepare(AlignmentJob)"/>).</summary>
/// <param name="ShardIndexes">The pivot's representation shards: one statistics unit and one alignment unit each.</param>
/// <param name="Identity">The vocabularies are identical: no statistics pass, the source's top-K is copied.</param>
public sealed record AlignmentLayout(IReadOnlyList<int> ShardIndexes, bool Identity);
