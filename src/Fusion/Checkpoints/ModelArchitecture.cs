namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// Decoder-only architectures FuseChat can load, named after their Hugging Face classes.
/// </summary>
public enum ModelArchitecture
{
    /// <summary>LlamaForCausalLM (model_type "llama").</summary>
    Llama,

    /// <summary>MistralForCausalLM (model_type "mistral"): Llama with sliding-window attention.</summary>
    Mistral,

    /// <summary>Qwen2ForCausalLM (model_type "qwen2"): Llama with q/k/v projection biases.</summary>
    Qwen2,

    /// <summary>MixtralForCausalLM (model_type "mixtral"): Mistral with a sparse mixture-of-experts MLP.</summary>
    Mixtral,

    /// <summary>
    /// Gemma2ForCausalLM (model_type "gemma2"): scaled embeddings, RMSNorm weights stored as offsets from one, norms
    /// after attention and MLP as well as before, GELU (tanh) MLP, tanh soft-capped attention scores and logits, and
    /// sliding-window attention in every other layer. FuseChat-3.0 fuses into Gemma-2-9B-it.
    /// </summary>
    Gemma2,

    /// <summary>Qwen3ForCausalLM (model_type "qwen3"): Qwen2 without q/k/v biases, with RMSNorm on each query and key head.</summary>
    Qwen3,

    /// <summary>
    /// Phi3ForCausalLM (model_type "phi3"; Phi-3, Phi-3.5 and Phi-4): Llama with q, k and v in one projection
    /// (qkv_proj), gate and up in one (gate_up_proj), rotary positions on a part of each head (partial_rotary_factor)
    /// and an optional sliding window.
    /// </summary>
    Phi3,

    /// <summary>
    /// Gemma3ForCausalLM (model_type "gemma3_text"; Gemma 3 1B, and the language model of the multimodal 4B and up,
    /// Gemma3ForConditionalGeneration, which is read as this): Gemma2 without soft caps by default, with Gemma-style norms on each query and key head, five sliding layers
    /// to one global, and a rotary base of its own for the sliding layers (rope_local_base_freq).
    /// </summary>
    Gemma3,

    /// <summary>
    /// Qwen2MoeForCausalLM (model_type "qwen2_moe"; Qwen1.5-MoE-A2.7B, Qwen2-57B-A14B): Qwen2 with a sparse MLP of
    /// routed experts (moe_intermediate_size wide) and a shared expert every token passes, behind a sigmoid gate.
    /// </summary>
    Qwen2Moe,

    /// <summary>
    /// Qwen3MoeForCausalLM (model_type "qwen3_moe"; Qwen3-30B-A3B, Qwen3-235B-A22B): Qwen3 with a sparse MLP of routed
    /// experts (128 experts, 8 per token in the published models).
    /// </summary>
    Qwen3Moe,

    /// <summary>
    /// SmolLM3ForCausalLM (model_type "smollm3"; SmolLM3-3B): Llama with no rotary positions in every fourth layer
    /// (no_rope_layers, "NoPE"), tied embeddings by default.
    /// </summary>
    SmolLM3,

    /// <summary>
    /// Olmo2ForCausalLM (model_type "olmo2"; OLMo 2 1B, 7B, 13B and 32B): norms on the attention's and the MLP's output
    /// only (none on their input), and RMSNorm over the whole query and key projections before the heads are split.
    /// </summary>
    Olmo2,

    /// <summary>
    /// Olmo3ForCausalLM (model_type "olmo3"; OLMo 3 7B and 32B): OLMo 2 with sliding-window attention in three layers of
    /// four (layer_types).
    /// </summary>
    Olmo3,

    /// <summary>
    /// Exaone4ForCausalLM (model_type "exaone4"; EXAONE 4.0 1.2B and 32B): norms on the sublayers' outputs only (as
    /// OLMo 2), RMSNorm on each query and key head (as Qwen3), and with a window, three sliding layers to one global
    /// layer that has no rotary positions.
    /// </summary>
    Exaone4,

    /// <summary>
    /// Glm4ForCausalLM (model_type "glm4"; GLM-4-9B-0414, GLM-4-32B-0414, GLM-Z1): a norm on each sublayer's input and
    /// output, q/k/v biases, gate and up in one projection, and rotary positions on half of each head in GLM's
    /// interleaved layout (neighbouring dimensions pair up).
    /// </summary>
    Glm4,

    /// <summary>
    /// Ernie4_5ForCausalLM (model_type "ernie4_5"; ERNIE-4.5-0.3B): Llama with GLM's interleaved rotary positions over
    /// the whole head, computed in fp32, optional biases on every projection (use_bias) and tied embeddings.
    /// </summary>
    Ernie45,
}
