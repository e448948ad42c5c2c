namespace FuseChat.Fusion.Merging;

/// <summary>
/// Progress of a checkpoint merge (of the shards a call merges): reported before each tensor is merged, with
/// <see cref="CurrentTensor"/> its name, and after each output shard is finished on disk, with it empty.
/// </summary>
/// <param name="TensorsDone">Tensors finished, those resumed from an earlier run included.</param>
/// <param name="TensorsTotal">Tensors of the call.</param>
/// <param name="CurrentTensor">The tensor about to be merged, or empty.</param>
/// <param name="BytesWritten">Output bytes finished, resumed ones included.</param>
/// <param name="BytesTotal">Output bytes of the call.</param>
/// <param name="TensorsResumed">Tensors found finished by an earlier run and not merged again.</param>
/// <param name="ShardsDone">Output shards finished, resumed ones included.</param>
/// <param name="ShardsTotal">Output shards of the call.</param>
public sealed record MergeProgress(int TensorsDone, int TensorsTotal, string CurrentTensor, long BytesWritten, long BytesTotal,
    int TensorsResumed = 0, int ShardsDone = 0, int ShardsTotal = 0);
