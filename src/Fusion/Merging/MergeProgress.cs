namespace FuseChat.Fusion.Merging;

/// <summary>Progress of a checkpoint merge: tensors done out of the total, and bytes written so far.</summary>
public sealed record MergeProgress(int TensorsDone, int TensorsTotal, string CurrentTensor, long BytesWritten, long BytesTotal);
