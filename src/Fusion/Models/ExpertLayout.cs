namespace FuseChat.Fusion.Models;

/// <summary>How a family names the parts of its sparse mixture-of-experts MLP in a checkpoint.</summary>
public enum ExpertLayout
{
    /// <summary>Mixtral: block_sparse_moe.gate and block_sparse_moe.experts.N.w1 (gate), w3 (up) and w2 (down).</summary>
    Mixtral,

    /// <summary>
    /// Qwen2-MoE and Qwen3-MoE: mlp.gate and mlp.experts.N.gate_proj, up_proj and down_proj; Qwen2-MoE adds
    /// mlp.shared_expert (a dense MLP every token passes) and mlp.shared_expert_gate (its sigmoid gate).
    /// </summary>
    Qwen,
}
