using FuseChat.Torch;

namespace FuseChat.Fusion.Models;

/// <summary>What every decoder layer of one pass shares: the rotary tables and the sliding-window mask (null: causal).</summary>
internal readonly record struct LayerPositions(Tensor Cos, Tensor Sin, Tensor? Mask);
