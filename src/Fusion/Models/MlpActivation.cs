namespace FuseChat.Fusion.Models;

/// <summary>The activation of a gated MLP's gate: down(act(gate(x)) * up(x)).</summary>
public enum MlpActivation
{
    /// <summary>SiLU (SwiGLU): Llama, Mistral, Qwen, Mixtral.</summary>
    Silu,

    /// <summary>GELU with the tanh approximation (GeGLU; transformers' "gelu_pytorch_tanh"): Gemma.</summary>
    GeluTanh,
}
