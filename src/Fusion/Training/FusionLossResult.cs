using FuseChat.Torch;

namespace FuseChat.Fusion.Training;

/// <summary>The fusion loss and its parts (0-d tensors owned by the scope that computed them).</summary>
/// <param name="Total">λ·CrossEntropy + (1 − λ)·Fusion; the tensor to back-propagate.</param>
/// <param name="CrossEntropy">Mean CE against the gold tokens over trained positions.</param>
/// <param name="Fusion">Mean cross entropy against the target distributions over fusion positions (m_t = 1).</param>
/// <param name="TrainedPositions">Number of positions with a label.</param>
/// <param name="FusionPositions">Number of positions counted by the fusion term (Σ m_t).</param>
public sealed record FusionLossResult(Tensor Total, Tensor CrossEntropy, Tensor Fusion, Tensor TrainedPositions, Tensor FusionPositions);
