namespace FuseChat.Fusion.Merging;

/// <summary>How a merge is laid out on disk, as <see cref="CheckpointMerger.Prepare"/> found or made it.</summary>
/// <param name="Shards">Output shards (the units a merge resumes and splits by).</param>
/// <param name="Tensors">Tensors in all shards.</param>
/// <param name="StagingFolder">The folder the shards are merged into before it is renamed into the output.</param>
/// <param name="ShardsDone">Shards already finished by an earlier, interrupted run of the same merge.</param>
public sealed record MergeLayout(int Shards, int Tensors, string StagingFolder, int ShardsDone);
