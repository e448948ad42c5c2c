namespace FuseChat.Fusion.Training;

/// <summary>What the trainer reports after it wrote a checkpoint.</summary>
/// <param name="Step">The optimiser step the checkpoint holds.</param>
/// <param name="Path">The checkpoint folder, under its final name.</param>
/// <param name="Bytes">Bytes of every file in the checkpoint (weights, optimiser, state).</param>
/// <param name="Duration">Wall time to write and publish it.</param>
public sealed record FusionCheckpointLog(long Step, string Path, long Bytes, TimeSpan Duration);
