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
}
