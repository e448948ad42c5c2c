using System.Text.Json;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;

namespace FuseChat.Fusion.Tests.Checkpoints;

public class ModelConfigTests
{
    [Fact]
    public void ParsesLlama2()
    {
        var c = ModelConfig.Parse(ConfigSamples.Llama2_7B);
        Assert.Equal(ModelArchitecture.Llama, c.Architecture);
        Assert.Equal("LlamaForCausalLM", c.ArchitectureName);
        Assert.Equal("llama", c.ModelType);
        Assert.Equal(32000, c.VocabSize);
        Assert.Equal(4096, c.HiddenSize);
        Assert.Equal(11008, c.IntermediateSize);
        Assert.Equal(32, c.NumHiddenLayers);
        Assert.Equal(32, c.NumAttentionHeads);
        Assert.Equal(32, c.NumKeyValueHeads);
        Assert.Equal(128, c.HeadDim);
        Assert.Equal(1e-5, c.RmsNormEps);
        Assert.Equal(10000, c.RopeTheta);
        Assert.Null(c.RopeScaling);
        Assert.Equal(4096, c.MaxPositionEmbeddings);
        Assert.False(c.TieWordEmbeddings);
        Assert.False(c.AttentionBias);
        Assert.Equal([1], c.BosTokenIds.ToArray());
        Assert.Equal([2], c.EosTokenIds.ToArray());
        Assert.Equal("float16", c.TorchDtype);
        Assert.Null(c.EffectiveSlidingWindow);
        Assert.Equal("1", c.ExtraFields["pretraining_tp"]);
    }

    [Fact]
    public void ParsesMistralWithSlidingWindow()
    {
        var c = ModelConfig.Parse(ConfigSamples.Mistral7B);
        Assert.Equal(ModelArchitecture.Mistral, c.Architecture);
        Assert.Equal(8, c.NumKeyValueHeads);
        Assert.Equal(128, c.HeadDim);
        Assert.Equal(14336, c.IntermediateSize);
        Assert.Equal(4096, c.SlidingWindow);
        Assert.Equal(4096, c.EffectiveSlidingWindow);
        Assert.Equal("bfloat16", c.TorchDtype);

        var noWindow = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Mistral7B, "sliding_window", "null"));
        Assert.Null(noWindow.EffectiveSlidingWindow);
    }

    [Fact]
    public void ParsesQwen15WithBiasAndDisabledSlidingWindow()
    {
        var c = ModelConfig.Parse(ConfigSamples.Qwen15_7BChat);
        Assert.Equal(ModelArchitecture.Qwen2, c.Architecture);
        Assert.Equal(151936, c.VocabSize);
        Assert.True(c.AttentionBias);
        Assert.False(c.AttentionOutputBias);
        Assert.Equal(1e6, c.RopeTheta);
        Assert.Equal(32768, c.SlidingWindow);
        Assert.False(c.UseSlidingWindow);
        Assert.Null(c.EffectiveSlidingWindow);
        Assert.Equal(28, c.MaxWindowLayers);
        Assert.Equal([151643], c.BosTokenIds.ToArray());
        Assert.Equal([151645], c.EosTokenIds.ToArray());

        var tied = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Qwen15_7BChat, "tie_word_embeddings", "true"));
        Assert.True(tied.TieWordEmbeddings);
    }

    [Fact]
    public void ParsesMixtralExperts()
    {
        var c = ModelConfig.Parse(ConfigSamples.Mixtral8x7B);
        Assert.Equal(ModelArchitecture.Mixtral, c.Architecture);
        Assert.Equal(8, c.NumLocalExperts);
        Assert.Equal(2, c.NumExpertsPerTok);
        Assert.Equal(0.02, c.RouterAuxLossCoef);
        Assert.Null(c.SlidingWindow);
        Assert.Equal(1e-5, c.RmsNormEps);
        Assert.Equal("false", c.ExtraFields["output_router_logits"]);
    }

    [Fact]
    public void ParsesQwenMixturesOfExperts()
    {
        var qwen3 = ModelConfig.Parse(ConfigSamples.Qwen3_30B_A3B);
        Assert.Equal((ModelArchitecture.Qwen3Moe, 128, 8, 768, true), (qwen3.Architecture, qwen3.NumLocalExperts, qwen3.NumExpertsPerTok, qwen3.MoeIntermediateSize, qwen3.NormTopkProb));
        Assert.Equal((false, false, (int?)null, (int?)null), (qwen3.AttentionBias, qwen3.AttentionOutputBias, qwen3.SharedExpertIntermediateSize, qwen3.EffectiveSlidingWindow));
        Assert.All(qwen3.SparseLayers, Assert.True);
        Assert.Equal("48", qwen3.ExtraFields["max_window_layers"]); // meaningless for Qwen3-MoE, written back as it was
        var decoder = DecoderConfig.From(qwen3);
        Assert.Equal((ExpertLayout.Qwen, 768, true, true), (decoder.ExpertLayout, decoder.EffectiveExpertIntermediateSize, decoder.NormalizeTopK, decoder.QueryKeyNorm));

        var qwen2 = ModelConfig.Parse(ConfigSamples.Qwen15_MoE_A27B_Chat);
        Assert.Equal((ModelArchitecture.Qwen2Moe, 60, 4, 1408, false, 5632), (qwen2.Architecture, qwen2.NumLocalExperts, qwen2.NumExpertsPerTok, qwen2.MoeIntermediateSize, qwen2.NormTopkProb, qwen2.SharedExpertIntermediateSize));
        Assert.Equal((true, false, (int?)null), (qwen2.AttentionBias, qwen2.AttentionOutputBias, qwen2.EffectiveSlidingWindow));
        Assert.False(DecoderConfig.From(qwen2).QueryKeyNorm);
    }

    [Fact]
    public void ParsesSmolLM3sLayersWithoutRotaryPositions()
    {
        var c = ModelConfig.Parse(ConfigSamples.SmolLM3_3B);
        Assert.Equal((ModelArchitecture.SmolLM3, 5e6, true, (int?)128004), (c.Architecture, c.RopeTheta, c.TieWordEmbeddings, c.PadTokenId));
        Assert.Equal([3, 7, 11, 15, 19, 23, 27, 31, 35], Enumerable.Range(0, 36).Where(i => !c.RotaryLayers[i]));
        var decoder = DecoderConfig.From(c);
        Assert.False(decoder.Rotates(3));
        Assert.True(decoder.Rotates(4));

        // Without the list, every no_rope_layer_interval-th layer (4 by default); the padding id defaults as in transformers.
        var derived = ModelConfig.Parse("""
            {"architectures": ["SmolLM3ForCausalLM"], "vocab_size": 128256, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 6, "num_attention_heads": 4, "no_rope_layer_interval": 3}
            """);
        Assert.Equal([true, true, false, true, true, false], derived.RotaryLayers.ToArray());
        Assert.Equal((128004, 2e6, true), (derived.PadTokenId!.Value, derived.RopeTheta, derived.TieWordEmbeddings));
        Assert.Equal(derived, ModelConfig.Parse(derived.ToJson()));

        Assert.Contains("no_rope_layers must hold a 1 (rotary) or 0 (none) for each of the 36 layers", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse(ConfigSamples.With(ConfigSamples.SmolLM3_3B, "no_rope_layers", "[1, 2]"))).Message, StringComparison.Ordinal);
        Assert.Contains("SmolLM3's sliding windows", Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(
            ConfigSamples.With(ConfigSamples.With(ConfigSamples.SmolLM3_3B, "use_sliding_window", "true"), "sliding_window", "4096"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsesOlmo2sOutputNormLayout()
    {
        var c = ModelConfig.Parse(ConfigSamples.Olmo2_7B_Instruct);
        Assert.Equal((ModelArchitecture.Olmo2, 5e5, 1e-6, (int?)100277), (c.Architecture, c.RopeTheta, c.RmsNormEps, c.PadTokenId));
        var layout = ModelTensorLayout.For(c);
        Assert.False(layout.Contains("model.layers.0.input_layernorm.weight"));
        Assert.True(layout.TryGet("model.layers.31.self_attn.k_norm.weight", out var k));
        Assert.Equal([4096L], k.Shape.ToArray()); // the whole projection, not one head
        Assert.True(layout.Contains("model.layers.0.post_feedforward_layernorm.weight"));
        Assert.False(layout.Contains("model.layers.0.pre_feedforward_layernorm.weight"));
        var decoder = DecoderConfig.From(c);
        Assert.Equal((true, false, false), (decoder.OutputNormsOnly, decoder.QueryKeyNorm, decoder.GemmaNorms));
    }

    [Fact]
    public void Olmo3SlidesInThreeLayersOfFourUnlessLayerTypesSayOtherwise()
    {
        const string json = """
            {"architectures": ["Olmo3ForCausalLM"], "vocab_size": 100278, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 8, "num_attention_heads": 4}
            """;
        var c = ModelConfig.Parse(json);
        Assert.Equal([3, 7], Enumerable.Range(0, 8).Where(i => !c.SlidingLayers[i]));
        Assert.Equal((4096, 1e-5), (c.EffectiveSlidingWindow!.Value, c.RmsNormEps));
        Assert.Equal(c, ModelConfig.Parse(c.ToJson()));
        var decoder = DecoderConfig.From(c);
        Assert.Equal((true, true, false), (decoder.OutputNormsOnly, decoder.Slides(0), decoder.Slides(3)));

        var full = ModelConfig.Parse(json.Replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 4, \"sliding_window\": null", StringComparison.Ordinal));
        Assert.Null(full.EffectiveSlidingWindow);
        var listed = ModelConfig.Parse(json.Replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 4, \"layer_types\": [" +
            string.Join(", ", Enumerable.Range(0, 8).Select(i => i < 2 ? "\"full_attention\"" : "\"sliding_attention\"")) + "]", StringComparison.Ordinal));
        Assert.Equal([false, false, true, true, true, true, true, true], listed.SlidingLayers.ToArray());
    }

    /// <summary>
    /// OLMo 3 extends its context with YaRN on the global layers only (OLMo-core; transformers from the release that
    /// writes rope_parameters per layer type, 5.17 on the GPU machine): both spellings give the sliding layers an
    /// unscaled rotation of the same base, and our config.json reads back the same.
    /// </summary>
    [Fact]
    public void Olmo3ScalesTheRotationOfItsGlobalLayersOnly()
    {
        // Fragments in single quotes, for readability.
        static string Json(string rope, string architecture = "Olmo3ForCausalLM") => ("{'architectures': ['" + architecture + "'], " +
            "'vocab_size': 100278, 'hidden_size': 64, 'intermediate_size': 128, 'num_hidden_layers': 8, 'num_attention_heads': 4, " +
            "'max_position_embeddings': 65536, " + rope + "}").Replace('\'', '"');
        const string yarn = "'rope_type': 'yarn', 'factor': 8.0, 'original_max_position_embeddings': 8192, 'attention_factor': 1.2079441541679836, 'beta_fast': 32, 'beta_slow': 1";
        static string PerLayerType(string sliding, string architecture = "Olmo3ForCausalLM") => Json(
            "'rope_parameters': {'full_attention': {'rope_theta': 500000.0, " + yarn + "}, 'sliding_attention': {" + sliding + "}}", architecture);

        var legacy = ModelConfig.Parse(Json("'rope_theta': 500000.0, 'rope_scaling': {" + yarn + "}"));
        Assert.Equal(("yarn", 8.0, 500000.0), (legacy.RopeScaling!.Type, legacy.RopeScaling.Factor, legacy.LocalRopeTheta!.Value));
        Assert.Equal(legacy, ModelConfig.Parse(legacy.ToJson()));
        Assert.DoesNotContain("rope_local_base_freq", legacy.ToJson(), StringComparison.Ordinal);
        Assert.Equal(500000.0, DecoderConfig.From(legacy).LocalRopeTheta);

        var perLayerType = ModelConfig.Parse(PerLayerType("'rope_type': 'default', 'rope_theta': 500000.0"));
        Assert.Equal((legacy.RopeTheta, legacy.RopeScaling, legacy.LocalRopeTheta), (perLayerType.RopeTheta, perLayerType.RopeScaling, perLayerType.LocalRopeTheta));

        // Unscaled, every layer rotates alike: no second table.
        Assert.Null(ModelConfig.Parse(Json("'rope_theta': 500000.0")).LocalRopeTheta);
        Assert.Contains("rope_parameters.sliding_attention.rope_theta 10000 differs from the global layers' 500000",
            Reject(PerLayerType("'rope_type': 'default', 'rope_theta': 10000.0")), StringComparison.Ordinal);
        Assert.Contains("scaling the sliding layers' rotation is not supported",
            Reject(PerLayerType("'rope_type': 'linear', 'factor': 2.0")), StringComparison.Ordinal);
        // OLMo 2 has one rotation for all layers: per layer type stays refused there.
        Assert.Contains("rope_parameters per layer type",
            Reject(PerLayerType("'rope_type': 'default', 'rope_theta': 500000.0", "Olmo2ForCausalLM")), StringComparison.Ordinal);

        static string Reject(string json) => Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(json)).Message;
    }

    [Theory]
    [InlineData("\"LLLG\"", new[] { 3, 7 })]
    [InlineData("4", new[] { 3, 7 })]
    [InlineData("\"LG\"", new[] { 1, 3, 5, 7 })]
    // A string pattern leaves the last layer global, whatever its letter.
    [InlineData("\"LLL\"", new[] { 7 })]
    public void Exaone4sGlobalLayersFollowItsPatternAndHaveNoRotaryPositions(string pattern, int[] global)
    {
        string Json(string window) => $$"""
            {"architectures": ["Exaone4ForCausalLM"], "vocab_size": 102400, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 8, "num_attention_heads": 4, "head_dim": 16, "sliding_window": {{window}}, "sliding_window_pattern": {{pattern}}}
            """;
        var c = ModelConfig.Parse(Json("4096"));
        Assert.Equal(global, Enumerable.Range(0, 8).Where(i => !c.SlidingLayers[i]));
        Assert.Equal(c.SlidingLayers.ToArray(), c.RotaryLayers.ToArray());
        Assert.Equal(c, ModelConfig.Parse(c.ToJson()));
        Assert.Contains($"\"sliding_window_pattern\": {pattern}", c.ToJson(), StringComparison.Ordinal);
        var decoder = DecoderConfig.From(c);
        Assert.Equal((true, true, false), (decoder.OutputNormsOnly, decoder.QueryKeyNorm, decoder.Rotates(global[0])));

        // Without a window every layer attends fully and rotates.
        var full = ModelConfig.Parse(Json("null"));
        Assert.Null(full.EffectiveSlidingWindow);
        Assert.True(Enumerable.Range(0, 8).All(DecoderConfig.From(full).Rotates));
    }

    [Fact]
    public void ParsesGlm4sLayout()
    {
        var c = ModelConfig.Parse(ConfigSamples.Glm4_9B_0414);
        Assert.Equal((ModelArchitecture.Glm4, 0.5, true, false), (c.Architecture, c.PartialRotaryFactor, c.AttentionBias, c.AttentionOutputBias));
        var layout = ModelTensorLayout.For(c);
        foreach (var name in new[] { "input_layernorm", "post_self_attn_layernorm", "post_attention_layernorm", "post_mlp_layernorm", "self_attn.q_proj.bias", "mlp.gate_up_proj" })
            Assert.Contains(layout.Tensors, t => t.Name.StartsWith("model.layers.0." + name, StringComparison.Ordinal));
        Assert.False(layout.Contains("model.layers.0.self_attn.o_proj.bias"));
        var decoder = DecoderConfig.From(c);
        Assert.Equal((64, true, true, true, false), (decoder.EffectiveRotaryDim, decoder.InterleavedRotary, decoder.GlmNorms, decoder.FusedGateUp, decoder.FusedProjections));

        // Without the field, half of each head rotates, as Glm4Config sets it; the defaults of the padding id and epsilon.
        var bare = ModelConfig.Parse("""
            {"architectures": ["Glm4ForCausalLM"], "vocab_size": 151552, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}
            """);
        Assert.Equal((0.5, (int?)151329, 1.5625e-7, true), (bare.PartialRotaryFactor, bare.PadTokenId, bare.RmsNormEps, bare.AttentionBias));
        Assert.Equal(bare, ModelConfig.Parse(bare.ToJson()));
    }

    [Fact]
    public void Ernie45sUseBiasCoversEveryProjection()
    {
        var c = ModelConfig.Parse("""
            {"architectures": ["Ernie4_5ForCausalLM"], "vocab_size": 103424, "hidden_size": 1024, "intermediate_size": 3072,
             "num_hidden_layers": 18, "num_attention_heads": 16, "num_key_value_heads": 2, "head_dim": 128, "use_bias": true}
            """);
        Assert.Equal((true, true, true), (c.AttentionBias, c.AttentionOutputBias, c.MlpBias));
        Assert.Equal((5e5, true, 1e-5), (c.RopeTheta, c.TieWordEmbeddings, c.RmsNormEps));
        Assert.True(ModelTensorLayout.For(c).Contains("model.layers.0.mlp.down_proj.bias"));
        Assert.Equal(c, ModelConfig.Parse(c.ToJson()));
        var decoder = DecoderConfig.From(c);
        Assert.Equal((true, true, 128), (decoder.InterleavedRotary, decoder.RotaryInFloat32, decoder.EffectiveRotaryDim));
    }

    [Fact]
    public void QwenMoeDenseLayersFollowTheSparseStepAndMlpOnlyLayers()
    {
        var json = ConfigSamples.With(ConfigSamples.With(ConfigSamples.Qwen3_30B_A3B, "num_hidden_layers", "6"), "decoder_sparse_step", "2");
        Assert.Equal([false, true, false, true, false, true], ModelConfig.Parse(json).SparseLayers.ToArray());
        var c = ModelConfig.Parse(ConfigSamples.With(json, "mlp_only_layers", "[1, 4]"));
        Assert.Equal([false, false, false, true, false, true], c.SparseLayers.ToArray());
        Assert.Equal(c, ModelConfig.Parse(c.ToJson()));

        var layout = ModelTensorLayout.For(c);
        Assert.True(layout.Contains("model.layers.1.mlp.gate_proj.weight"));
        Assert.False(layout.Contains("model.layers.1.mlp.gate.weight"));
        Assert.True(layout.Contains("model.layers.3.mlp.experts.127.down_proj.weight"));
    }

    [Theory]
    [InlineData("mlp_only_layers", "[48]", "mlp_only_layers must list layer indices below num_hidden_layers 48")]
    [InlineData("num_experts_per_tok", "200", "num_experts_per_tok 200 exceeds num_experts 128")]
    [InlineData("num_local_experts", "64", "num_experts 128 disagrees with num_local_experts 64")]
    [InlineData("moe_intermediate_size", "0", "\"moe_intermediate_size\" must be a positive integer")]
    public void InvalidQwenMoeFieldsAreReported(string field, string value, string expected)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Qwen3_30B_A3B, field, value), "moe.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QwenMoeWindowsAreReadAsTransformersWritesThem()
    {
        // transformers 5 writes Qwen2-MoE's "no window" as 0; Qwen2-MoE's own window pattern is refused by name.
        Assert.Null(ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Qwen15_MoE_A27B_Chat, "sliding_window", "0")).EffectiveSlidingWindow);
        var e = Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Qwen15_MoE_A27B_Chat, "use_sliding_window", "true")));
        Assert.Contains("Qwen2-MoE's sliding windows", e.Message, StringComparison.Ordinal);

        // Qwen3-MoE slides in every layer when asked to.
        var sliding = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.With(ConfigSamples.Qwen3_30B_A3B, "use_sliding_window", "true"), "sliding_window", "4096"));
        var decoder = DecoderConfig.From(sliding);
        Assert.Equal(4096, sliding.EffectiveSlidingWindow);
        Assert.All(Enumerable.Range(0, decoder.Layers), i => Assert.True(decoder.Slides(i)));
    }

    [Fact]
    public void DefaultsApplyWhenOptionalFieldsAreAbsent()
    {
        var c = ModelConfig.Parse("""
            {"architectures": ["LlamaForCausalLM"], "vocab_size": 100, "hidden_size": 64,
             "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4}
            """);
        Assert.Equal(4, c.NumKeyValueHeads);
        Assert.Equal(16, c.HeadDim);
        Assert.Equal(10000, c.RopeTheta);
        Assert.Equal(1e-6, c.RmsNormEps);
        Assert.Equal("llama", c.ModelType);
        Assert.Empty(c.EosTokenIds);

        var mixtral = ModelConfig.Parse("""
            {"model_type": "mixtral", "vocab_size": 100, "hidden_size": 64,
             "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}
            """);
        Assert.Equal(ModelArchitecture.Mixtral, mixtral.Architecture);
        Assert.Equal(1e6, mixtral.RopeTheta);
        Assert.Equal(8, mixtral.NumLocalExperts);
    }

    [Fact]
    public void TokenIdListsAndExplicitHeadDimAreRead()
    {
        var json = ConfigSamples.With(ConfigSamples.Llama2_7B, "eos_token_id", "[128001, 128008, 128009]");
        json = ConfigSamples.With(json, "head_dim", "64");
        var c = ModelConfig.Parse(json);
        Assert.Equal([128001, 128008, 128009], c.EosTokenIds.ToArray());
        Assert.Equal(64, c.HeadDim);
    }

    [Fact]
    public void LinearRopeScalingIsReadAndOthersAreRejected()
    {
        var linear = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Llama2_7B, "rope_scaling", """{"type": "linear", "factor": 4.0}"""));
        Assert.Equal(new RopeScaling("linear", 4.0), linear.RopeScaling);

        var dynamic = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Llama2_7B, "rope_scaling", """{"type": "dynamic", "factor": 2.0}"""));
        Assert.Equal(new RopeScaling("dynamic", 2.0), dynamic.RopeScaling);
        Assert.Equal(dynamic, ModelConfig.Parse(dynamic.ToJson()));

        var e = Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(
            ConfigSamples.With(ConfigSamples.Llama2_7B, "rope_scaling", """{"rope_type": "ntk-by-parts", "factor": 8.0}"""), "/models/ntk/config.json"));
        Assert.Contains("/models/ntk/config.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("rope_scaling type 'ntk-by-parts' is not supported", e.Message, StringComparison.Ordinal);
        Assert.Contains("linear", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Llama 3.1's rope_scaling, as its config.json writes it, read, checked and written back.</summary>
    [Fact]
    public void Llama3RopeScalingIsReadCheckedAndWrittenBack()
    {
        const string llama31 = """{"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}""";
        var c = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Llama2_7B, "rope_scaling", llama31));
        var expected = new RopeScaling("llama3", 8.0) { LowFreqFactor = 1.0, HighFreqFactor = 4.0, OriginalMaxPositionEmbeddings = 8192 };
        Assert.Equal(expected, c.RopeScaling);
        Assert.Equal(expected, ModelConfig.Parse(c.ToJson()).RopeScaling);

        // transformers' _compute_llama3_parameters at head_dim 128, theta 500000: high frequencies kept, low ones
        // divided by 8, the band between blended (values from the formula, i = 0, 32, 63).
        var frequencies = RopeScaling.InverseFrequencies(128, 500000, expected);
        Assert.Equal(1.0, frequencies[0], 12);
        var f32 = 1.0 / Math.Pow(500000, 64.0 / 128);
        var smooth = (8192 / (2 * Math.PI / f32) - 1) / 3;
        Assert.InRange(smooth, 0, 1);   // i = 32 lies in the blended band (29 to 34)
        Assert.Equal((1 - smooth) * f32 / 8 + smooth * f32, frequencies[32], 15);
        var f63 = 1.0 / Math.Pow(500000, 126.0 / 128) / 8;
        Assert.Equal(f63, frequencies[63], tolerance: f63 * 1e-12);

        var missing = Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Llama2_7B, "rope_scaling",
            """{"factor": 8.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}""")));
        Assert.Contains("rope_scaling of type llama3 needs a positive numeric \"low_freq_factor\"", missing.Message, StringComparison.Ordinal);
        var inverted = Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Llama2_7B, "rope_scaling",
            """{"factor": 8.0, "low_freq_factor": 4.0, "high_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}""")));
        Assert.Contains("high_freq_factor (1) above low_freq_factor (4)", inverted.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// transformers 5 writes RoPE's base and scaling inside "rope_parameters" (see the parity fixtures). Reading
    /// only the old top-level keys would give a Qwen2 checkpoint the default base of 10000 instead of 1e6.
    /// </summary>
    [Fact]
    public void Transformers5RopeParametersAreReadAndChecked()
    {
        var v5 = ConfigSamples.With(ConfigSamples.Llama2_7B, "rope_theta", "null");
        var plain = ModelConfig.Parse(ConfigSamples.With(v5, "rope_parameters", """{"rope_theta": 500000.0, "rope_type": "default"}"""));
        Assert.Equal(500000.0, plain.RopeTheta);
        Assert.Null(plain.RopeScaling);
        Assert.DoesNotContain("rope_parameters", plain.ExtraFields.Keys);

        var linear = ModelConfig.Parse(ConfigSamples.With(v5, "rope_parameters", """{"factor": 2.0, "rope_theta": 10000.0, "rope_type": "linear", "type": "linear"}"""));
        Assert.Equal(10000.0, linear.RopeTheta);
        Assert.Equal(new RopeScaling("linear", 2.0), linear.RopeScaling);
        // Saved in the spelling both transformers versions read, and read back the same.
        var saved = ModelConfig.Parse(linear.ToJson());
        Assert.Equal((linear.RopeTheta, linear.RopeScaling), (saved.RopeTheta, saved.RopeScaling));

        var both = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Mistral7B, "rope_parameters", """{"rope_theta": 10000.0, "rope_type": "default"}"""));
        Assert.Equal(10000.0, both.RopeTheta);

        Assert.Contains("rope_theta 10000 disagrees with rope_parameters.rope_theta 500000", Reject(ConfigSamples.With(
            ConfigSamples.Mistral7B, "rope_parameters", """{"rope_theta": 500000.0, "rope_type": "default"}""")), StringComparison.Ordinal);
        Assert.Contains("rope_parameters type 'ntk-by-parts' is not supported", Reject(ConfigSamples.With(
            v5, "rope_parameters", """{"rope_theta": 1000000.0, "rope_type": "ntk-by-parts", "factor": 4.0}""")), StringComparison.Ordinal);
        Assert.Contains("rope_parameters per layer type (full_attention, sliding_attention) are not supported", Reject(ConfigSamples.With(
            v5, "rope_parameters", """{"full_attention": {"rope_theta": 1000000.0}, "sliding_attention": {"rope_theta": 10000.0}}""")), StringComparison.Ordinal);
        Assert.Contains("rope_parameters.rope_theta must be a positive number", Reject(ConfigSamples.With(
            v5, "rope_parameters", """{"rope_theta": "big", "rope_type": "default"}""")), StringComparison.Ordinal);

        static string Reject(string json) => Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(json, "/models/v5/config.json")).Message;
    }

    /// <summary>
    /// transformers 5's layer_types decide which layers slide; Qwen2 slides from max_window_layers on (default 28),
    /// so a small Qwen2 with use_sliding_window and no max_window_layers has no sliding layer at all.
    /// </summary>
    [Fact]
    public void LayerTypesAndMaxWindowLayersDecideWhichLayersSlide()
    {
        var qwen = ConfigSamples.With(ConfigSamples.With(ConfigSamples.Qwen15_7BChat, "use_sliding_window", "true"), "sliding_window", "8");
        var byDefault = ModelConfig.Parse(qwen);
        Assert.Equal(28, byDefault.FirstSlidingLayer);
        Assert.Equal(8, byDefault.EffectiveSlidingWindow);   // 32 layers: the last four slide
        var decoder = DecoderConfig.From(byDefault);
        Assert.Equal((8, 28), (decoder.SlidingWindow, decoder.FirstSlidingLayer));

        var fewLayers = ModelConfig.Parse(ConfigSamples.With(qwen, "num_hidden_layers", "4"));
        Assert.Null(fewLayers.EffectiveSlidingWindow);
        Assert.Equal(0, DecoderConfig.From(fewLayers).SlidingWindow);

        var typed = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.With(qwen, "num_hidden_layers", "3"), "layer_types",
            """["full_attention", "sliding_attention", "sliding_attention"]"""));
        Assert.Equal((1, 8), (typed.FirstSlidingLayer, typed.EffectiveSlidingWindow));
        Assert.Contains("\"max_window_layers\": 1", typed.ToJson(), StringComparison.Ordinal);

        Assert.Contains("sliding layers must follow all full-attention layers", Reject(ConfigSamples.With(ConfigSamples.With(qwen, "num_hidden_layers", "3"),
            "layer_types", """["sliding_attention", "full_attention", "sliding_attention"]""")), StringComparison.Ordinal);
        Assert.Contains("layer_types lists 2 layers but num_hidden_layers is 32", Reject(ConfigSamples.With(qwen,
            "layer_types", """["full_attention", "sliding_attention"]""")), StringComparison.Ordinal);
        Assert.Contains("layer type 'chunked_attention' is not supported", Reject(ConfigSamples.With(ConfigSamples.With(qwen, "num_hidden_layers", "1"),
            "layer_types", """["chunked_attention"]""")), StringComparison.Ordinal);
        Assert.Contains("Mistral applies one attention to every layer", Reject(ConfigSamples.With(ConfigSamples.With(ConfigSamples.Mistral7B,
            "num_hidden_layers", "2"), "layer_types", """["full_attention", "sliding_attention"]""")), StringComparison.Ordinal);

        static string Reject(string json) => Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(json, "/models/v5/config.json")).Message;
    }

    [Fact]
    public void ParsesGemma2WithSoftCapsAndAlternatingWindows()
    {
        var c = ModelConfig.Parse(ConfigSamples.Gemma2_9B_It);
        Assert.Equal((ModelArchitecture.Gemma2, "gemma2", "gelu_pytorch_tanh"), (c.Architecture, c.ModelType, c.HiddenAct));
        Assert.Equal((256, true, 256, 50.0, 30.0), (c.HeadDim, c.TieWordEmbeddings, c.QueryPreAttnScalar, c.AttnLogitSoftcapping, c.FinalLogitSoftcapping));
        Assert.Equal(42, c.SlidingLayers.Length);
        Assert.Equal(Enumerable.Range(0, 42).Select(i => i % 2 == 0), c.SlidingLayers);
        Assert.Equal(4096, c.EffectiveSlidingWindow);
        Assert.False(c.AttentionBias);

        var d = DecoderConfig.From(c);
        Assert.Equal((MlpActivation.GeluTanh, true, false), (d.Activation, d.GemmaNorms, d.QueryKeyNorm));
        Assert.Equal(1.0 / 16, d.AttentionScale);
        Assert.Equal((true, false, true), (d.Slides(0), d.Slides(1), d.Slides(40)));
        // pad_token_id is the embedding's padding row, as transformers makes it (-1 counts from the end; an id
        // beyond the embedding is no row at all).
        Assert.Equal((0, 0), (c.PadTokenId, d.PaddingIndex));
        Assert.Equal(255999, DecoderConfig.From(ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Gemma2_9B_It, "pad_token_id", "-1"))).PaddingIndex);
        Assert.Null(DecoderConfig.From(ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Gemma2_9B_It, "pad_token_id", "256000"))).PaddingIndex);
        Assert.Null(DecoderConfig.From(ModelConfig.Parse(ConfigSamples.Qwen3_8B)).PaddingIndex);

        // transformers 5 writes layer_types, and a null cap for none.
        var typed = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.With(ConfigSamples.With(ConfigSamples.Gemma2_9B_It, "num_hidden_layers", "3"),
            "layer_types", """["full_attention", "sliding_attention", "sliding_attention"]"""), "final_logit_softcapping", "null"));
        Assert.Equal([false, true, true], typed.SlidingLayers.ToArray());
        Assert.Null(typed.FinalLogitSoftcapping);
        Assert.Equal(typed, ModelConfig.Parse(typed.ToJson()));
        Assert.Null(DecoderConfig.From(typed).FinalSoftcap);

        Assert.Contains("\"attn_logit_softcapping\" must be a positive number or null", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Gemma2_9B_It, "attn_logit_softcapping", "0"))).Message, StringComparison.Ordinal);
        Assert.Contains("name sliding layers but sliding_window is null", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse(ConfigSamples.With(ConfigSamples.With(ConfigSamples.With(ConfigSamples.Gemma2_9B_It, "num_hidden_layers", "2"),
                "layer_types", """["sliding_attention", "full_attention"]"""), "sliding_window", "null"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsesQwen3WithQueryKeyNormsAndNoBiases()
    {
        var c = ModelConfig.Parse(ConfigSamples.Qwen3_8B);
        Assert.Equal((ModelArchitecture.Qwen3, 128, false, false), (c.Architecture, c.HeadDim, c.AttentionBias, c.TieWordEmbeddings));
        Assert.Equal((1e6, 40960), (c.RopeTheta, c.MaxPositionEmbeddings));
        Assert.Null(c.EffectiveSlidingWindow);
        var d = DecoderConfig.From(c);
        Assert.True(d.QueryKeyNorm);
        Assert.False(d.GemmaNorms);
        Assert.Null(d.AttentionScale);
        Assert.True(ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Qwen3_8B, "attention_bias", "true")).AttentionOutputBias);
    }

    [Fact]
    public void ParsesPhi3WithItsWindowPadRowAndPartialRotaryFactorInEitherPlace()
    {
        var c = ModelConfig.Parse(ConfigSamples.Phi3Mini4kInstruct);
        Assert.Equal((ModelArchitecture.Phi3, 2047, 1.0, 32000), (c.Architecture, c.EffectiveSlidingWindow, c.PartialRotaryFactor, c.PadTokenId));
        var d = DecoderConfig.From(c);
        Assert.Equal((true, 96, 32000), (d.FusedProjections, d.EffectiveRotaryDim, d.PaddingIndex));

        // Phi-4-mini turns 3/4 of each head; transformers 4 writes the factor at the top level, 5 inside rope_parameters.
        var top = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Phi3Mini4kInstruct, "rope_scaling", """null, "partial_rotary_factor": 0.75"""));
        var inner = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Phi3Mini4kInstruct, "rope_scaling",
            """null, "rope_parameters": {"rope_theta": 10000.0, "rope_type": "default", "partial_rotary_factor": 0.75}"""));
        Assert.Equal((0.75, 0.75), (top.PartialRotaryFactor, inner.PartialRotaryFactor));
        Assert.Equal(72, DecoderConfig.From(top).EffectiveRotaryDim);
        Assert.Equal(top, ModelConfig.Parse(top.ToJson()));
        Assert.Contains("partial_rotary_factor must be in (0, 1]", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Phi3Mini4kInstruct, "rope_scaling", """null, "partial_rotary_factor": 1.5"""))).Message, StringComparison.Ordinal);
        Assert.Contains("disagrees with rope_parameters.partial_rotary_factor", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Phi3Mini4kInstruct, "rope_scaling",
                """null, "partial_rotary_factor": 0.5, "rope_parameters": {"rope_type": "default", "partial_rotary_factor": 0.75}"""))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsesGemma3WithItsTwoRotationsAndWindowPatternInEitherSpelling()
    {
        var c = ModelConfig.Parse(ConfigSamples.Gemma3_1B_It);
        Assert.Equal((ModelArchitecture.Gemma3, "gemma3_text", 1e6, (double?)10000, (int?)512), (c.Architecture, c.ModelType, c.RopeTheta, c.LocalRopeTheta, c.EffectiveSlidingWindow));
        // sliding_window_pattern 6: layers 5, 11, 17 and 23 are global, the other 22 slide.
        Assert.Equal([5, 11, 17, 23], Enumerable.Range(0, 26).Where(i => !c.SlidingLayers[i]));
        Assert.Equal(((double?)null, (double?)null, 256, true), (c.AttnLogitSoftcapping, c.FinalLogitSoftcapping, c.QueryPreAttnScalar!.Value, c.TieWordEmbeddings));
        var d = DecoderConfig.From(c);
        Assert.Equal((true, true, (double?)10000, (double?)null), (d.GemmaNorms, d.QueryKeyNorm, d.LocalRopeTheta, d.AttentionSoftcap));
        Assert.Equal(c, ModelConfig.Parse(c.ToJson()));

        // transformers 5: one rotation per layer type, the global one scaled (Gemma 3 4B and up: linear, factor 8).
        var five = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.With(ConfigSamples.With(ConfigSamples.Gemma3_1B_It, "rope_theta", "null"),
            "rope_local_base_freq", "null"), "rope_scaling", """null, "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0}, "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}"""));
        Assert.Equal((1e6, (double?)10000, new RopeScaling("linear", 8)), (five.RopeTheta, five.LocalRopeTheta, five.RopeScaling));
        Assert.Equal(five, ModelConfig.Parse(five.ToJson()));
        Assert.Contains("scaling the sliding layers' rotation is not supported", Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Gemma3_1B_It, "rope_scaling",
            """null, "rope_parameters": {"full_attention": {"rope_type": "default"}, "sliding_attention": {"rope_type": "linear", "factor": 2.0}}"""))).Message, StringComparison.Ordinal);
        Assert.Contains("disagrees with rope_parameters.sliding_attention.rope_theta", Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Gemma3_1B_It, "rope_scaling",
            """null, "rope_parameters": {"sliding_attention": {"rope_type": "default", "rope_theta": 500.0}}"""))).Message, StringComparison.Ordinal);
        // Per-layer-type rotations belong to Gemma3 only.
        Assert.Contains("per layer type", Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Gemma2_9B_It, "rope_theta",
            """10000.0, "rope_parameters": {"full_attention": {"rope_type": "default"}, "sliding_attention": {"rope_type": "default"}}"""))).Message, StringComparison.Ordinal);
        Assert.Contains("bidirectional", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Gemma3_1B_It, "use_cache", """true, "use_bidirectional_attention": true"""))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMultimodalGemma3ConfigIsReadAsItsLanguageModel()
    {
        // google/gemma-3-4b-it: the text_config holds only what differs from transformers' Gemma3TextConfig defaults.
        var c = ModelConfig.Parse("""
            {"architectures": ["Gemma3ForConditionalGeneration"], "boi_token_index": 255999, "eoi_token_index": 256000,
             "eos_token_id": [1, 106], "image_token_index": 262144, "initializer_range": 0.02, "mm_tokens_per_image": 256,
             "model_type": "gemma3",
             "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text", "num_hidden_layers": 34,
                             "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024},
             "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0",
             "vision_config": {"hidden_size": 1152, "image_size": 896, "intermediate_size": 4304, "model_type": "siglip_vision_model",
                               "num_attention_heads": 16, "num_hidden_layers": 27, "patch_size": 14, "vision_use_head": false}}
            """);
        Assert.Equal((ModelArchitecture.Gemma3, "Gemma3ForCausalLM", "gemma3_text"), (c.Architecture, c.ArchitectureName, c.ModelType));
        Assert.Equal((262208, 2560, 10240, 34, 8, 4, 256), (c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim));
        Assert.Equal((new RopeScaling("linear", 8), 1e6, (double?)10000, (int?)1024, 256), (c.RopeScaling, c.RopeTheta, c.LocalRopeTheta, c.EffectiveSlidingWindow, c.QueryPreAttnScalar!.Value));
        Assert.Equal([1, 106], c.EosTokenIds.ToArray());
        Assert.Equal(("bfloat16", true, 131072), (c.TorchDtype, c.TieWordEmbeddings, c.MaxPositionEmbeddings));
        Assert.Equal([5, 11, 17, 23, 29], Enumerable.Range(0, 34).Where(i => !c.SlidingLayers[i]));
        // Written back as the text model it is: no vision_config, no image token fields.
        var json = c.ToJson();
        Assert.DoesNotContain("vision_config", json, StringComparison.Ordinal);
        Assert.DoesNotContain("image_token_index", json, StringComparison.Ordinal);
        Assert.Equal(c, ModelConfig.Parse(json));
        Assert.Contains("text_config must be an object", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse("""{"architectures": ["Gemma3ForConditionalGeneration"], "text_config": 3}""")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMultimodalMistral3ConfigIsReadAsItsLanguageModel()
    {
        // mistralai/Mistral-Small-3.1-24B-Instruct-2503's shape: no token ids and no tie_word_embeddings anywhere.
        var c = ModelConfig.Parse("""
            {"architectures": ["Mistral3ForConditionalGeneration"], "image_token_index": 10, "model_type": "mistral3",
             "multimodal_projector_bias": false, "projector_hidden_act": "gelu", "spatial_merge_size": 2,
             "text_config": {"attention_dropout": 0.0, "head_dim": 128, "hidden_act": "silu", "hidden_size": 5120, "initializer_range": 0.02,
                             "intermediate_size": 32768, "max_position_embeddings": 131072, "model_type": "mistral", "num_attention_heads": 32,
                             "num_hidden_layers": 40, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 1000000000.0,
                             "sliding_window": null, "use_cache": true, "vocab_size": 131072},
             "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0",
             "vision_config": {"head_dim": 64, "hidden_size": 1024, "image_size": 1540, "model_type": "pixtral", "patch_size": 14}}
            """);
        Assert.Equal((ModelArchitecture.Mistral, "MistralForCausalLM", "mistral"), (c.Architecture, c.ArchitectureName, c.ModelType));
        Assert.Equal((131072, 5120, 32768, 40, 32, 8, 128), (c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim));
        Assert.Equal((1e9, false, (int?)null, "bfloat16"), (c.RopeTheta, c.TieWordEmbeddings, c.EffectiveSlidingWindow, c.TorchDtype));
        Assert.DoesNotContain("vision_config", c.ToJson(), StringComparison.Ordinal);

        // Ministral 3's text model is another family, refused by name rather than read as Mistral.
        var e = Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse("""
            {"architectures": ["Mistral3ForConditionalGeneration"], "text_config": {"model_type": "ministral3", "vocab_size": 131072}}
            """));
        Assert.Contains("text_config.model_type is 'ministral3'; the language model FuseChat reads in Mistral3ForConditionalGeneration is mistral", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsesYarnAsQwenDocumentsIt()
    {
        // Qwen2.5's long-context setting, as its model card tells users to add it.
        var c = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Qwen3_8B, "rope_scaling", """{"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"}"""));
        var r = Assert.IsType<RopeScaling>(c.RopeScaling);
        Assert.Equal(("yarn", 4.0, 32768), (r.Type, r.Factor, r.OriginalMaxPositionEmbeddings!.Value));
        Assert.Equal(0.1 * Math.Log(4) + 1, r.AttentionScaling, 12);
        Assert.Equal(c, ModelConfig.Parse(c.ToJson()));
        // Head width 128, theta 1e6: frequencies 0..~20 turn often enough within 32768 positions to be kept, the
        // lowest ones are divided by the factor, a ramp between (transformers' _compute_yarn_parameters).
        var kept = RopeScaling.InverseFrequencies(128, 1e6, null);
        var yarn = RopeScaling.InverseFrequencies(128, 1e6, r);
        Assert.Equal(kept[0], yarn[0], 15);
        Assert.Equal(kept[63] / 4, yarn[63], 15);
        Assert.Contains(yarn.Select((v, i) => v / kept[i]), ratio => ratio is > 0.26 and < 0.99);
        // Defaults spelled out, and refusals naming the field.
        var full = ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Qwen3_8B, "rope_scaling",
            """{"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 4096, "beta_fast": 16, "beta_slow": 2, "attention_factor": 1.2, "truncate": false}"""));
        Assert.Equal((16.0, 2.0, 1.2, false), (full.RopeScaling!.BetaFast!.Value, full.RopeScaling.BetaSlow!.Value, full.RopeScaling.AttentionScaling, full.RopeScaling.Truncate!.Value));
        Assert.Equal(full, ModelConfig.Parse(full.ToJson()));
        Assert.Contains("needs a numeric \"factor\" of at least 1", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Qwen3_8B, "rope_scaling", """{"type": "yarn", "factor": 0.5}"""))).Message, StringComparison.Ordinal);
        Assert.Contains("truncate must be true or false", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Qwen3_8B, "rope_scaling", """{"type": "yarn", "factor": 2.0, "truncate": 1}"""))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsesPhi3LongRopeAsTransformersReadsIt()
    {
        // Phi-3.5-mini: 48 factors per list (head 96), max_position_embeddings 131072 over an original 4096, no factor.
        var shortFactors = string.Join(", ", Enumerable.Range(0, 48).Select(i => (1 + i * 0.01).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)));
        var longFactors = string.Join(", ", Enumerable.Range(0, 48).Select(i => (1 + i * 2.5).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)));
        string Phi35(string scaling) => ConfigSamples.With(ConfigSamples.With(ConfigSamples.Phi3Mini4kInstruct, "max_position_embeddings", "131072"), "rope_scaling", scaling);
        var c = ModelConfig.Parse(Phi35($$"""{"type": "longrope", "long_factor": [{{longFactors}}], "short_factor": [{{shortFactors}}]}"""));
        var r = Assert.IsType<RopeScaling>(c.RopeScaling);
        Assert.Equal(("longrope", 32.0, 4096, true), (r.Type, r.Factor, r.OriginalMaxPositionEmbeddings!.Value, r.FactorDerived));
        Assert.Equal((48, 1.47, 118.5), (r.ShortFactor!.Count, r.ShortFactor[47], r.LongFactor![47]));
        // transformers: sqrt(1 + ln(factor) / ln(original)) when no attention_factor is given.
        Assert.Equal(Math.Sqrt(1 + Math.Log(32) / Math.Log(4096)), r.AttentionScaling, 12);
        Assert.Equal(c, ModelConfig.Parse(c.ToJson()));
        Assert.DoesNotContain("\"factor\"", c.ToJson(), StringComparison.Ordinal);
        // The older names Phi-3 checkpoints use for the same scaling, and a given factor and attention factor.
        Assert.Equal(r, ModelConfig.Parse(Phi35($$"""{"type": "su", "long_factor": [{{longFactors}}], "short_factor": [{{shortFactors}}]}""")).RopeScaling);
        var given = ModelConfig.Parse(Phi35($$"""{"type": "longrope", "factor": 8.0, "attention_factor": 1.5, "long_factor": [{{longFactors}}], "short_factor": [{{shortFactors}}]}"""));
        Assert.Equal((8.0, 1.5, false), (given.RopeScaling!.Factor, given.RopeScaling.AttentionScaling, given.RopeScaling.FactorDerived));
        Assert.Equal(given, ModelConfig.Parse(given.ToJson()));
        // Frequencies: each divided by its own short factor, or long factor past the original context.
        var shortFrequencies = RopeScaling.InverseFrequencies(96, 10000, r);
        var longFrequencies = RopeScaling.LongInverseFrequencies(96, 10000, r)!;
        Assert.Equal(1.0 / (1.47 * Math.Pow(10000, 94.0 / 96)), shortFrequencies[47], 15);
        Assert.Equal(1.0 / (118.5 * Math.Pow(10000, 94.0 / 96)), longFrequencies[47], 15);
        Assert.Null(RopeScaling.LongInverseFrequencies(96, 10000, null));

        // A list of the wrong length, or longrope outside Phi3, is refused by name rather than misread.
        Assert.Contains("one short and one long factor per rotary frequency (48", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse(Phi35("""{"type": "longrope", "long_factor": [1.0], "short_factor": [1.0]}"""))).Message, StringComparison.Ordinal);
        Assert.Contains("short_factor has 1 entries and long_factor 2", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse(Phi35("""{"type": "longrope", "long_factor": [1.0, 2.0], "short_factor": [1.0]}"""))).Message, StringComparison.Ordinal);
        Assert.Contains("type 'longrope' is not supported", Assert.Throws<CheckpointFormatException>(() =>
            ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Llama2_7B, "rope_scaling", """{"type": "longrope", "long_factor": [1.0], "short_factor": [1.0]}"""))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownArchitectureNamesFileArchitectureAndSupportedOnes()
    {
        var json = ConfigSamples.With(ConfigSamples.Llama2_7B, "architectures", """["GPT2LMHeadModel"]""");
        var e = Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(json, "/models/gpt2/config.json"));
        Assert.Contains("/models/gpt2/config.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("'GPT2LMHeadModel'", e.Message, StringComparison.Ordinal);
        foreach (var supported in ModelConfig.SupportedArchitectures)
        {
            Assert.Contains(supported, e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("hidden_size", "\"big\"", "\"hidden_size\" must be a positive integer")]
    [InlineData("num_key_value_heads", "5", "not a multiple of num_key_value_heads 5")]
    [InlineData("tie_word_embeddings", "1", "\"tie_word_embeddings\" must be true or false")]
    [InlineData("eos_token_id", "\"</s>\"", "\"eos_token_id\" must be a token id")]
    public void InvalidFieldsAreReported(string field, string value, string expected)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(ConfigSamples.With(ConfigSamples.Llama2_7B, field, value), "cfg.json"));
        Assert.Contains("'cfg.json'", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingRequiredFieldAndBadJsonAreReported()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse("""{"architectures": ["MistralForCausalLM"], "hidden_size": 8}""", "c.json"));
        Assert.Contains("required field \"vocab_size\" is missing", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse("{", "c.json"));
        Assert.Contains("not valid JSON", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> AllSamples() => new([ConfigSamples.Llama2_7B, ConfigSamples.Mistral7B, ConfigSamples.Qwen15_7BChat, ConfigSamples.Mixtral8x7B,
        ConfigSamples.Gemma2_9B_It, ConfigSamples.Qwen3_8B, ConfigSamples.Phi3Mini4kInstruct, ConfigSamples.Qwen3_30B_A3B, ConfigSamples.Qwen15_MoE_A27B_Chat, ConfigSamples.SmolLM3_3B,
        ConfigSamples.Olmo2_7B_Instruct, ConfigSamples.Glm4_9B_0414]);

    [Theory]
    [MemberData(nameof(AllSamples))]
    public void WriteBackRoundTrips(string json)
    {
        var c = ModelConfig.Parse(json);
        var written = c.ToJson();
        var again = ModelConfig.Parse(written);
        Assert.Equal(c, again);
        Assert.Equal(written, again.ToJson());

        // Every field of the original is still there with an equal value.
        using var original = JsonDocument.Parse(json);
        using var output = JsonDocument.Parse(written);
        foreach (var p in original.RootElement.EnumerateObject())
        {
            Assert.True(output.RootElement.TryGetProperty(p.Name, out var v), $"field {p.Name} lost");
            if (p.Value.ValueKind == JsonValueKind.Number)
            {
                Assert.Equal(p.Value.GetDouble(), v.GetDouble());
            }
            else
            {
                Assert.Equal(p.Value.GetRawText().Replace(" ", string.Empty, StringComparison.Ordinal), v.GetRawText().Replace(" ", string.Empty, StringComparison.Ordinal).Replace("\n", string.Empty, StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public void SaveAndLoadFromFolder()
    {
        using var dir = new TempFolder();
        var c = ModelConfig.Parse(ConfigSamples.Mixtral8x7B) with { NumHiddenLayers = 2 };
        c.Save(dir.Path);
        var loaded = ModelConfig.Load(dir.Path);
        Assert.Equal(c, loaded);
        Assert.Equal(2, loaded.NumHiddenLayers);
        Assert.Single(Directory.GetFiles(dir.Path));
    }
}
