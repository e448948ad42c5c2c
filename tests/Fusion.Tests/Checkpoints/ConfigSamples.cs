using FuseChat.Fusion.Checkpoints;

namespace FuseChat.Fusion.Tests.Checkpoints;

/// <summary>
/// config.json texts as published on the Hugging Face hub (field names and values verbatim). The MoE, SmolLM3, OLMo 2
/// and GLM-4 samples were written from the published files' fields without a download (none is reachable here), so
/// they may differ from the hub's in fields FuseChat does not read.
/// </summary>
internal static class ConfigSamples
{
    public const string Llama2_7B = """
        {
          "architectures": ["LlamaForCausalLM"],
          "bos_token_id": 1,
          "eos_token_id": 2,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 11008,
          "max_position_embeddings": 4096,
          "model_type": "llama",
          "num_attention_heads": 32,
          "num_hidden_layers": 32,
          "num_key_value_heads": 32,
          "pretraining_tp": 1,
          "rms_norm_eps": 1e-05,
          "rope_scaling": null,
          "tie_word_embeddings": false,
          "torch_dtype": "float16",
          "transformers_version": "4.31.0.dev0",
          "use_cache": true,
          "vocab_size": 32000
        }
        """;

    public const string Mistral7B = """
        {
          "architectures": ["MistralForCausalLM"],
          "bos_token_id": 1,
          "eos_token_id": 2,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 14336,
          "max_position_embeddings": 32768,
          "model_type": "mistral",
          "num_attention_heads": 32,
          "num_hidden_layers": 32,
          "num_key_value_heads": 8,
          "rms_norm_eps": 1e-05,
          "rope_theta": 10000.0,
          "sliding_window": 4096,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.34.0.dev0",
          "use_cache": true,
          "vocab_size": 32000
        }
        """;

    public const string Qwen15_7BChat = """
        {
          "architectures": ["Qwen2ForCausalLM"],
          "attention_dropout": 0.0,
          "bos_token_id": 151643,
          "eos_token_id": 151645,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 11008,
          "max_position_embeddings": 32768,
          "max_window_layers": 28,
          "model_type": "qwen2",
          "num_attention_heads": 32,
          "num_hidden_layers": 32,
          "num_key_value_heads": 32,
          "rms_norm_eps": 1e-06,
          "rope_theta": 1000000.0,
          "sliding_window": 32768,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.37.0",
          "use_cache": true,
          "use_sliding_window": false,
          "vocab_size": 151936
        }
        """;

    public const string Mixtral8x7B = """
        {
          "architectures": ["MixtralForCausalLM"],
          "attention_dropout": 0.0,
          "bos_token_id": 1,
          "eos_token_id": 2,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 14336,
          "max_position_embeddings": 32768,
          "model_type": "mixtral",
          "num_attention_heads": 32,
          "num_experts_per_tok": 2,
          "num_hidden_layers": 32,
          "num_key_value_heads": 8,
          "num_local_experts": 8,
          "output_router_logits": false,
          "rms_norm_eps": 1e-05,
          "rope_theta": 1000000.0,
          "router_aux_loss_coef": 0.02,
          "sliding_window": null,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.36.0.dev0",
          "use_cache": true,
          "vocab_size": 32000
        }
        """;

    /// <summary>google/gemma-2-9b-it (FuseChat-3.0's Gemma target): both activation keys, as transformers 4.42 wrote them.</summary>
    public const string Gemma2_9B_It = """
        {
          "architectures": ["Gemma2ForCausalLM"],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "attn_logit_softcapping": 50.0,
          "bos_token_id": 2,
          "cache_implementation": "hybrid",
          "eos_token_id": 1,
          "final_logit_softcapping": 30.0,
          "head_dim": 256,
          "hidden_act": "gelu_pytorch_tanh",
          "hidden_activation": "gelu_pytorch_tanh",
          "hidden_size": 3584,
          "initializer_range": 0.02,
          "intermediate_size": 14336,
          "max_position_embeddings": 8192,
          "model_type": "gemma2",
          "num_attention_heads": 16,
          "num_hidden_layers": 42,
          "num_key_value_heads": 8,
          "pad_token_id": 0,
          "query_pre_attn_scalar": 256,
          "rms_norm_eps": 1e-06,
          "rope_theta": 10000.0,
          "sliding_window": 4096,
          "sliding_window_size": 4096,
          "torch_dtype": "float32",
          "transformers_version": "4.42.0.dev0",
          "use_cache": true,
          "vocab_size": 256000
        }
        """;

    /// <summary>google/gemma-3-1b-it (transformers 4 spelling: the two rotary bases at the top level, the window pattern as a number).</summary>
    public const string Gemma3_1B_It = """
        {
          "architectures": ["Gemma3ForCausalLM"],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "attn_logit_softcapping": null,
          "bos_token_id": 2,
          "cache_implementation": "hybrid",
          "eos_token_id": [1, 106],
          "final_logit_softcapping": null,
          "head_dim": 256,
          "hidden_activation": "gelu_pytorch_tanh",
          "hidden_size": 1152,
          "initializer_range": 0.02,
          "intermediate_size": 6912,
          "max_position_embeddings": 32768,
          "model_type": "gemma3_text",
          "num_attention_heads": 4,
          "num_hidden_layers": 26,
          "num_key_value_heads": 1,
          "pad_token_id": 0,
          "query_pre_attn_scalar": 256,
          "rms_norm_eps": 1e-06,
          "rope_local_base_freq": 10000,
          "rope_scaling": null,
          "rope_theta": 1000000,
          "sliding_window": 512,
          "sliding_window_pattern": 6,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.50.0.dev0",
          "use_cache": true,
          "vocab_size": 262144
        }
        """;

    /// <summary>Qwen/Qwen3-8B.</summary>
    public const string Qwen3_8B = """
        {
          "architectures": ["Qwen3ForCausalLM"],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 151643,
          "eos_token_id": 151645,
          "head_dim": 128,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 12288,
          "max_position_embeddings": 40960,
          "max_window_layers": 36,
          "model_type": "qwen3",
          "num_attention_heads": 32,
          "num_hidden_layers": 36,
          "num_key_value_heads": 8,
          "rms_norm_eps": 1e-06,
          "rope_scaling": null,
          "rope_theta": 1000000,
          "sliding_window": null,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.51.0",
          "use_cache": true,
          "use_sliding_window": false,
          "vocab_size": 151936
        }
        """;

    /// <summary>microsoft/Phi-3-mini-4k-instruct (its auto_map left out).</summary>
    public const string Phi3Mini4kInstruct = """
        {
          "architectures": ["Phi3ForCausalLM"],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 1,
          "embd_pdrop": 0.0,
          "eos_token_id": 32000,
          "hidden_act": "silu",
          "hidden_size": 3072,
          "initializer_range": 0.02,
          "intermediate_size": 8192,
          "max_position_embeddings": 4096,
          "model_type": "phi3",
          "num_attention_heads": 32,
          "num_hidden_layers": 32,
          "num_key_value_heads": 32,
          "original_max_position_embeddings": 4096,
          "pad_token_id": 32000,
          "resid_pdrop": 0.0,
          "rms_norm_eps": 1e-05,
          "rope_scaling": null,
          "rope_theta": 10000.0,
          "sliding_window": 2047,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.40.2",
          "use_cache": true,
          "vocab_size": 32064
        }
        """;

    /// <summary>Qwen3-30B-A3B: 128 experts of width 768, 8 per token, renormalised; every layer sparse.</summary>
    public const string Qwen3_30B_A3B = """
        {
          "architectures": ["Qwen3MoeForCausalLM"],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 151643,
          "decoder_sparse_step": 1,
          "eos_token_id": 151645,
          "head_dim": 128,
          "hidden_act": "silu",
          "hidden_size": 2048,
          "initializer_range": 0.02,
          "intermediate_size": 6144,
          "max_position_embeddings": 40960,
          "max_window_layers": 48,
          "mlp_only_layers": [],
          "model_type": "qwen3_moe",
          "moe_intermediate_size": 768,
          "norm_topk_prob": true,
          "num_attention_heads": 32,
          "num_experts": 128,
          "num_experts_per_tok": 8,
          "num_hidden_layers": 48,
          "num_key_value_heads": 4,
          "output_router_logits": false,
          "rms_norm_eps": 1e-06,
          "rope_scaling": null,
          "rope_theta": 1000000.0,
          "router_aux_loss_coef": 0.001,
          "sliding_window": null,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.51.0",
          "use_cache": true,
          "use_sliding_window": false,
          "vocab_size": 151936
        }
        """;

    /// <summary>Qwen1.5-MoE-A2.7B-Chat: 60 experts of width 1408, 4 per token, not renormalised, and a shared expert.</summary>
    public const string Qwen15_MoE_A27B_Chat = """
        {
          "architectures": ["Qwen2MoeForCausalLM"],
          "attention_dropout": 0.0,
          "bos_token_id": 151643,
          "decoder_sparse_step": 1,
          "eos_token_id": 151645,
          "hidden_act": "silu",
          "hidden_size": 2048,
          "initializer_range": 0.02,
          "intermediate_size": 5632,
          "max_position_embeddings": 8192,
          "max_window_layers": 21,
          "model_type": "qwen2_moe",
          "moe_intermediate_size": 1408,
          "norm_topk_prob": false,
          "num_attention_heads": 16,
          "num_experts": 60,
          "num_experts_per_tok": 4,
          "num_hidden_layers": 24,
          "num_key_value_heads": 16,
          "output_router_logits": false,
          "rms_norm_eps": 1e-06,
          "rope_theta": 1000000.0,
          "router_aux_loss_coef": 0.001,
          "shared_expert_intermediate_size": 5632,
          "sliding_window": 8192,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.39.0.dev0",
          "use_cache": true,
          "use_sliding_window": false,
          "vocab_size": 151936
        }
        """;

    /// <summary>SmolLM3-3B: every fourth of its 36 layers without rotary positions, tied embeddings.</summary>
    public const string SmolLM3_3B = """
        {
          "architectures": ["SmolLM3ForCausalLM"],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": null,
          "eos_token_id": 128012,
          "hidden_act": "silu",
          "hidden_size": 2048,
          "initializer_range": 0.02,
          "intermediate_size": 11008,
          "max_position_embeddings": 65536,
          "max_window_layers": 28,
          "mlp_bias": false,
          "model_type": "smollm3",
          "no_rope_layer_interval": 4,
          "no_rope_layers": [1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0],
          "num_attention_heads": 16,
          "num_hidden_layers": 36,
          "num_key_value_heads": 4,
          "pad_token_id": 128004,
          "pretraining_tp": 2,
          "rms_norm_eps": 1e-06,
          "rope_scaling": null,
          "rope_theta": 5000000.0,
          "sliding_window": null,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.54.0.dev0",
          "use_cache": false,
          "use_sliding_window": false,
          "vocab_size": 128256
        }
        """;

    /// <summary>OLMo-2-1124-7B-Instruct: output norms only, query/key norms over the whole projections.</summary>
    public const string Olmo2_7B_Instruct = """
        {
          "architectures": ["Olmo2ForCausalLM"],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 100257,
          "eos_token_id": 100257,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 11008,
          "max_position_embeddings": 4096,
          "model_type": "olmo2",
          "num_attention_heads": 32,
          "num_hidden_layers": 32,
          "num_key_value_heads": 32,
          "pad_token_id": 100277,
          "rms_norm_eps": 1e-06,
          "rope_scaling": null,
          "rope_theta": 500000,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.47.0.dev0",
          "use_cache": true,
          "vocab_size": 100352
        }
        """;

    /// <summary>GLM-4-9B-0414: q/k/v biases, interleaved rotary positions on half of each head.</summary>
    public const string Glm4_9B_0414 = """
        {
          "architectures": ["Glm4ForCausalLM"],
          "attention_bias": true,
          "attention_dropout": 0.0,
          "eos_token_id": [151329, 151336, 151338],
          "head_dim": 128,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 13696,
          "max_position_embeddings": 32768,
          "model_type": "glm4",
          "num_attention_heads": 32,
          "num_hidden_layers": 40,
          "num_key_value_heads": 2,
          "pad_token_id": 151329,
          "partial_rotary_factor": 0.5,
          "rms_norm_eps": 1e-05,
          "rope_theta": 10000.0,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.51.3",
          "use_cache": true,
          "vocab_size": 151552
        }
        """;

    /// <summary>The name of every sample, one per family, for theories; <see cref="ByName"/> gives its text.</summary>
    public static TheoryData<string> Names => [nameof(Llama2_7B), nameof(Mistral7B), nameof(Qwen15_7BChat), nameof(Mixtral8x7B), nameof(Gemma2_9B_It), nameof(Qwen3_8B),
        nameof(Phi3Mini4kInstruct), nameof(Gemma3_1B_It), nameof(Qwen3_30B_A3B), nameof(Qwen15_MoE_A27B_Chat),
        nameof(SmolLM3_3B), nameof(Olmo2_7B_Instruct)];

    /// <summary>The text of the sample called <paramref name="name"/>.</summary>
    public static string ByName(string name) => (string)typeof(ConfigSamples).GetField(name)!.GetValue(null)!;

    /// <summary>
    /// A published config shrunk to test size, its family's features kept: vocabulary 16, hidden 8, intermediate 12, two
    /// layers of 4 heads (2 key-value heads) of width 2, 3 experts for a mixture (Qwen's of width 6, a shared one of 10),
    /// Gemma's window in the first layer.
    /// </summary>
    public static ModelConfig Tiny(string json)
    {
        var c = ModelConfig.Parse(json);
        return c with
        {
            VocabSize = 16,
            HiddenSize = 8,
            IntermediateSize = 12,
            NumHiddenLayers = 2,
            NumAttentionHeads = 4,
            NumKeyValueHeads = 2,
            HeadDim = 2,
            NumLocalExperts = c.NumLocalExperts is null ? null : 3,
            NumExpertsPerTok = c.NumExpertsPerTok is null ? null : 2,
            MoeIntermediateSize = c.MoeIntermediateSize is null ? null : 6,
            SharedExpertIntermediateSize = c.SharedExpertIntermediateSize is null ? null : 10,
            RotaryLayers = c.RotaryLayers.IsEmpty ? [] : [true, false],
            SlidingLayers = c.SlidingLayers.IsEmpty ? [] : [true, false],
        };
    }

    /// <summary>Replaces the value of one top-level field in a config text (values on one line).</summary>
    public static string With(string json, string field, string value)
    {
        var lines = json.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].TrimStart();
            if (trimmed.StartsWith($"\"{field}\":", StringComparison.Ordinal))
            {
                var comma = trimmed.EndsWith(',') ? "," : string.Empty;
                lines[i] = $"  \"{field}\": {value}{comma}";
                return string.Join('\n', lines);
            }
        }

        var brace = json.IndexOf('{', StringComparison.Ordinal);
        return json[..(brace + 1)] + $"\n  \"{field}\": {value}," + json[(brace + 1)..];
    }
}
