using FuseChat.Torch;

namespace FuseChat.Fusion.Models;

/// <summary>
/// What every decoder layer of one pass shares: the rotary tables, the sliding-window mask (null: causal), and the
/// sliding layers' own rotary tables where they rotate by another base (Gemma3; null: the same tables).
/// </summary>
internal readonly record struct LayerPositions(Tensor Cos, Tensor Sin, Tensor? Mask, Tensor? LocalCos = null, Tensor? LocalSin = null);
