using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tokenization;
using FuseChat.Torch;
using FuseChat.Torch.Optim;

namespace FuseChat.Fusion.Models;

/// <summary>
/// Small models of any supported family (Llama by default) with real tokenizers, written as Hugging Face folders:
/// what the demo and the end-to-end tests fuse. A model can be taught conversations first (plain cross entropy on the replies),
/// so that it knows something the others do not.
/// </summary>
public static class TinyModelFolder
{
    /// <summary>
    /// Writes a model of the given shape and <paramref name="architecture"/> (with that family's defaults; Gemma2, Gemma3,
    /// Mistral and Phi3 get a 32-token window so that short chats already meet it), with the vocabulary of the tokenizer in
    /// <paramref name="tokenizerFolder"/> (tokenizer.json and tokenizer_config.json are copied), into
    /// <paramref name="folder"/>; returns the folder.
    /// </summary>
    public static string Create(string folder, string tokenizerFolder, ulong seed, int hidden = 16, int intermediate = 32, int layers = 1,
        int heads = 2, int keyValueHeads = 2, Action<LlamaModel, HfTokenizer>? teach = null, ModelArchitecture architecture = ModelArchitecture.Llama)
    {
        var tokenizer = HfTokenizer.Load(tokenizerFolder);
        var (className, modelType, extra) = architecture switch
        {
            ModelArchitecture.Llama => ("LlamaForCausalLM", "llama", """, "hidden_act": "silu" """),
            ModelArchitecture.Mistral => ("MistralForCausalLM", "mistral", """, "sliding_window": 32 """),
            ModelArchitecture.Qwen2 => ("Qwen2ForCausalLM", "qwen2", ""),
            ModelArchitecture.Mixtral => ("MixtralForCausalLM", "mixtral", """, "num_local_experts": 4, "sliding_window": null """),
            ModelArchitecture.Gemma2 => ("Gemma2ForCausalLM", "gemma2", $$""", "sliding_window": 32, "query_pre_attn_scalar": {{hidden / heads}} """),
            ModelArchitecture.Qwen3 => ("Qwen3ForCausalLM", "qwen3", ""),
            ModelArchitecture.Phi3 => ("Phi3ForCausalLM", "phi3", """, "sliding_window": 32 """),
            // Every other layer global, so that a two-layer model has one of each rotation.
            ModelArchitecture.Gemma3 => ("Gemma3ForCausalLM", "gemma3_text",
                $$""", "sliding_window": 32, "sliding_window_pattern": 2, "query_pre_attn_scalar": {{hidden / heads}}, "head_dim": {{hidden / heads}} """),
            // Four experts of half the width, two per token; Qwen2-MoE's shared expert as wide as the dense MLP.
            ModelArchitecture.Qwen2Moe => ("Qwen2MoeForCausalLM", "qwen2_moe",
                $$""", "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": {{Math.Max(1, intermediate / 2)}}, "shared_expert_intermediate_size": {{intermediate}} """),
            ModelArchitecture.Qwen3Moe => ("Qwen3MoeForCausalLM", "qwen3_moe",
                $$""", "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": {{Math.Max(1, intermediate / 2)}}, "norm_topk_prob": true """),
            // Every other layer without rotary positions, so that a two-layer model has one of each.
            ModelArchitecture.SmolLM3 => ("SmolLM3ForCausalLM", "smollm3", """, "no_rope_layer_interval": 2 """),
            ModelArchitecture.Olmo2 => ("Olmo2ForCausalLM", "olmo2", ""),
            ModelArchitecture.Glm4 => ("Glm4ForCausalLM", "glm4", ""),
            ModelArchitecture.Ernie45 => ("Ernie4_5ForCausalLM", "ernie4_5", $$""", "head_dim": {{hidden / heads}} """),
            ModelArchitecture.Olmo3 => ("Olmo3ForCausalLM", "olmo3", """, "sliding_window": 32 """),
            // One sliding layer to one global one without rotary positions.
            ModelArchitecture.Exaone4 => ("Exaone4ForCausalLM", "exaone4", """, "sliding_window": 32, "sliding_window_pattern": 2 """),
            _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, "not a supported architecture"),
        };
        var config = ModelConfig.Parse($$"""
            {"architectures": ["{{className}}"], "model_type": "{{modelType}}", "vocab_size": {{tokenizer.Count}}, "hidden_size": {{hidden}},
             "intermediate_size": {{intermediate}}, "num_hidden_layers": {{layers}}, "num_attention_heads": {{heads}},
             "num_key_value_heads": {{keyValueHeads}}, "rms_norm_eps": 1e-5, "max_position_embeddings": 256,
             "bos_token_id": {{tokenizer.BosId ?? 0}}, "eos_token_id": {{tokenizer.EosId ?? 0}}{{extra}}}
            """);
        TorchRuntime.ManualSeed(seed);
        using var model = new LlamaModel(DecoderConfig.From(config));
        teach?.Invoke(model, tokenizer);
        PretrainedModel.Save(model, config, folder);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(tokenizerFolder, file), Path.Combine(folder, file), overwrite: true);
        return folder;
    }

    /// <summary>
    /// Plain cross-entropy fine-tuning on the assistant replies of <paramref name="conversations"/> (rendered with
    /// <paramref name="template"/>), cycling through them for <paramref name="steps"/> AdamW steps.
    /// </summary>
    public static void Teach(LlamaModel model, HfTokenizer tokenizer, IChatTemplate template, IReadOnlyList<Conversation> conversations, int steps,
        double learningRate = 1e-2)
    {
        if (conversations.Count == 0 || steps <= 0) return;
        var examples = conversations.Select(c => ChatEncoder.Encode(c, template, tokenizer)).ToList();
        using var optimizer = new AdamW(model.Parameters(), new AdamWOptions { LearningRate = learningRate, WeightDecay = 0 });
        for (var step = 0; step < steps; step++)
        {
            using var scope = DisposeScope.Open();
            var e = examples[step % examples.Count];
            var ids = e.Ids.Select(i => (long)i).ToArray();
            var labels = ids.Select((id, t) => e.Trained[t] ? id : -100L).ToArray();
            var loss = model.Loss(Tensor.From<long>(ids, [1, ids.Length]), Tensor.From<long>(labels, [1, labels.Length]));
            loss.Backward();
            GradientClipping.ClipGradNorm(optimizer.Parameters, 1.0);
            optimizer.Step();
            optimizer.ZeroGrad();
        }
    }
}
