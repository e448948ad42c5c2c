using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Tests.Checkpoints;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Models;

public class LlamaModelTests
{
    [Fact]
    public void ParameterNamesFollowHuggingFace()
    {
        TorchRuntime.ManualSeed(1);
        using var model = new LlamaModel(TinyModels.Llama(layers: 1) with { AttentionBias = true });
        var names = model.NamedParameters().Select(p => p.Name).ToList();
        Assert.Equal(
        [
            "model.embed_tokens.weight",
            "model.layers.0.input_layernorm.weight",
            "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.bias",
            "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.k_proj.bias",
            "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.v_proj.bias",
            "model.layers.0.self_attn.o_proj.weight",
            "model.layers.0.post_attention_layernorm.weight",
            "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
            "model.norm.weight",
            "lm_head.weight",
        ], names);
        var shapes = model.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.Shape);
        Assert.Equal([16L, 32], shapes["model.layers.0.self_attn.k_proj.weight"]); // 2 kv heads x 8
    }

    /// <summary>What the model registers is what a checkpoint of its family holds: names, shapes, nothing more or less.</summary>
    [Theory]
    [MemberData(nameof(ConfigSamples.Names), MemberType = typeof(ConfigSamples))]
    public void ParametersAreTheCheckpointLayoutOfTheFamily(string sample)
    {
        var config = ConfigSamples.Tiny(ConfigSamples.ByName(sample));
        TorchRuntime.ManualSeed(1);
        using var model = new LlamaModel(DecoderConfig.From(config));
        var ours = model.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.Shape.ToArray());
        var layout = ModelTensorLayout.For(config).Tensors.ToDictionary(t => t.Name, t => t.Shape.ToArray());
        Assert.Equal(layout.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in layout) Assert.True(shape.SequenceEqual(ours[name]), $"{name}: [{string.Join(", ", ours[name])}], layout [{string.Join(", ", shape)}]");
    }

    [Fact]
    public void TiedEmbeddingsHaveNoOutputMatrixAndUseTheEmbedding()
    {
        TorchRuntime.ManualSeed(2);
        using var scope = DisposeScope.Open();
        using var model = new LlamaModel(TinyModels.Llama(layers: 1) with { TieEmbeddings = true });
        Assert.DoesNotContain(model.NamedParameters(), p => p.Name == "lm_head.weight");
        var logits = model.Forward(TinyModels.Ids([1, 2, 3]));
        Assert.Equal([1L, 3, 61], logits.Shape);
    }

    [Fact]
    public void LaterTokensDoNotChangeEarlierLogits()
    {
        TorchRuntime.ManualSeed(3);
        using var scope = DisposeScope.Open();
        using var model = new LlamaModel(TinyModels.Llama());
        var a = model.Forward(TinyModels.Ids([5, 6, 7, 8, 9, 10]));
        var b = model.Forward(TinyModels.Ids([5, 6, 7, 40, 41, 42]));
        TinyModels.AssertClose(a.Narrow(1, 0, 3), b.Narrow(1, 0, 3), 1e-6);
        using var later = (a.Narrow(1, 3, 3) - b.Narrow(1, 3, 3)).Abs().Max();
        Assert.True(later.ToDouble() > 1e-4, "changed tokens must change their own logits");
    }

    [Fact]
    public void CachedIncrementalForwardEqualsFullForward()
    {
        TorchRuntime.ManualSeed(4);
        using var scope = DisposeScope.Open();
        using var model = new LlamaModel(TinyModels.Llama());
        var ids = TinyModels.RandomIds(12, 61, seed: 4);
        var full = model.Forward(TinyModels.Ids(ids));
        using var cache = new KeyValueCache(model.Config, 1, 12);
        var parts = new List<Tensor> { model.Forward(TinyModels.Ids(ids[..7]), cache) };
        for (var t = 7; t < 12; t++) parts.Add(model.Forward(TinyModels.Ids([ids[t]]), cache));
        Assert.Equal(12, cache.Length);
        TinyModels.AssertClose(full, Tensor.Cat(parts, 1), 1e-5);
    }

    /// <summary>
    /// Cached decoding picks what a whole forward pass per token picks; with LongRoPE also past the original context of 8,
    /// where the rotation changes and the generator recomputes the sequence rather than mix keys rotated both ways.
    /// </summary>
    [Theory]
    [InlineData("llama", 5, 10)]
    [InlineData("phi3-longrope", 5, 20)]
    // SmolLM3's NoPE layers cache unrotated keys beside the rotated ones of the others.
    [InlineData("smollm3", 6, 12)]
    public void GreedyGenerationWithCacheEqualsFullRecomputation(string family, ulong seed, int steps)
    {
        TorchRuntime.ManualSeed(seed);
        using var scope = DisposeScope.Open();
        using var model = new LlamaModel(family switch
        {
            "llama" => TinyModels.Llama(),
            "smollm3" => TinyModels.Llama(layers: 3) with { RotaryLayers = [true, false, true] },
            _ => TinyModels.Phi3LongRope(),
        });
        int[] prompt = [3, 14, 15, 9, 26];
        var stepLogits = new List<Tensor>();
        var generated = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = steps }, onToken: null,
            onLogits: logits => stepLogits.Add(logits.Clone().DetachFromScope()));
        Assert.Equal(steps, generated.Count);
        var context = prompt.Select(i => (long)i).ToList();
        using (NoGradScope.Enter())
        {
            for (var i = 0; i < steps; i++)
            {
                var logits = model.Forward(TinyModels.Ids(context.ToArray())).Select(1, context.Count - 1).Select(0, 0);
                // Not only the same choice: the same distribution at every step.
                using var cached = stepLogits[i];
                TinyModels.AssertClose(logits, cached, 1e-5);
                context.Add(logits.ArgMax(-1).ToInt64());
            }
        }
        Assert.Equal(context.Skip(prompt.Length).Select(i => (int)i), generated);
    }

    [Fact]
    public void LongRopeSwitchesToTheLongFactorsForPassesPastTheOriginalContext()
    {
        TorchRuntime.ManualSeed(8);
        using var scope = DisposeScope.Open();
        using var model = new LlamaModel(TinyModels.Phi3LongRope());
        var ids = TinyModels.RandomIds(12, 61, seed: 8);
        // Within the original context (8) the short table applies; a pass of 12 rotates all its positions the long way.
        var within = model.Forward(TinyModels.Ids(ids[..8]));
        var past = model.Forward(TinyModels.Ids(ids));
        using var difference = (within - past.Narrow(1, 0, 8)).Abs().Max();
        Assert.True(difference.ToDouble() > 1e-3, $"the first 8 positions must change once the pass is longer than 8 (max change {difference.ToDouble()})");
        // A plain Phi3 with the short factors as its only rotation gives the same 8 positions as the short table.
        using var plain = new LlamaModel(TinyModels.Phi3LongRope() with { RopeScaling = TinyModels.Phi3LongRope().RopeScaling! with { LongFactor = [1.0, 1.4, 2.0] } });
        TinyModels.CopyParameters(model, plain);
        TinyModels.AssertClose(within, plain.Forward(TinyModels.Ids(ids[..8])), 1e-6);
        TinyModels.AssertClose(within, plain.Forward(TinyModels.Ids(ids)).Narrow(1, 0, 8), 1e-6);
    }

    /// <summary>
    /// OLMo 3 scales only its global layers' rotation (YaRN): a sliding layer computes the same with or without the
    /// checkpoint's rope_scaling, a global layer does not.
    /// </summary>
    [Theory]
    [InlineData("sliding_attention", false)]
    [InlineData("full_attention", true)]
    public void Olmo3sRopeScalingChangesOnlyItsGlobalLayers(string layerType, bool changes)
    {
        static DecoderConfig Olmo3(string layerType, string scaling) => DecoderConfig.From(ModelConfig.Parse($$"""
            {"architectures": ["Olmo3ForCausalLM"], "vocab_size": 61, "hidden_size": 32, "intermediate_size": 48,
             "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256,
             "sliding_window": 8, "layer_types": ["{{layerType}}"], "rope_theta": 500000.0{{scaling}}}
            """));
        TorchRuntime.ManualSeed(9);
        using var scope = DisposeScope.Open();
        using var scaled = new LlamaModel(Olmo3(layerType, """, "rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64}"""));
        using var plain = new LlamaModel(Olmo3(layerType, ""));
        TinyModels.CopyParameters(scaled, plain);
        var ids = TinyModels.Ids(TinyModels.RandomIds(12, 61, seed: 9));
        using var difference = (scaled.Forward(ids) - plain.Forward(ids)).Abs().Max();
        Assert.Equal(changes, difference.ToDouble() > 1e-4);
    }

    [Fact]
    public void GenerationStopsAtAStopTokenWithoutReturningIt()
    {
        TorchRuntime.ManualSeed(6);
        using var model = new LlamaModel(TinyModels.Llama());
        var free = TextGenerator.Generate(model, [1, 2, 3], new GenerationOptions { MaxNewTokens = 8 });
        var stop = free[3];
        var stopped = TextGenerator.Generate(model, [1, 2, 3], new GenerationOptions { MaxNewTokens = 8, StopTokenIds = [stop] });
        Assert.Equal(free.TakeWhile(t => t != stop), stopped);
    }

    [Fact]
    public void GroupedQueryAttentionEqualsFullAttentionWithRepeatedKeyValueHeads()
    {
        TorchRuntime.ManualSeed(8);
        using var scope = DisposeScope.Open();
        var grouped = TinyModels.Llama(layers: 1);
        using var gqa = new LlamaModel(grouped);
        using var mha = new LlamaModel(grouped with { KeyValueHeads = 4 });
        // Key/value head j serves query heads 2j and 2j+1: repeat each head's 8 rows twice.
        TinyModels.CopyParameters(gqa, mha, (name, t) =>
            name.Contains("k_proj") || name.Contains("v_proj") ? t.View(2, 8, 32).RepeatInterleave(2, 0).Reshape(32, 32) : t);
        var ids = TinyModels.Ids(TinyModels.RandomIds(9, 61, seed: 8));
        TinyModels.AssertClose(gqa.Forward(ids), mha.Forward(ids), 1e-5);
    }

    [Fact]
    public void SlidingWindowHidesTokensBeyondTheWindow()
    {
        TorchRuntime.ManualSeed(9);
        using var scope = DisposeScope.Open();
        var config = TinyModels.Llama(layers: 1) with { SlidingWindow = 4 };
        using var windowed = new LlamaModel(config);
        using var full = new LlamaModel(config with { SlidingWindow = 0 });
        TinyModels.CopyParameters(windowed, full);
        var a = TinyModels.RandomIds(10, 61, seed: 9);
        var b = (long[])a.Clone();
        b[0] = (a[0] + 1) % 61;
        var la = windowed.Forward(TinyModels.Ids(a));
        var lb = windowed.Forward(TinyModels.Ids(b));
        // With one layer, position t sees positions t-3..t: from position 4 on, token 0 is invisible.
        TinyModels.AssertClose(la.Narrow(1, 4, 6), lb.Narrow(1, 4, 6), 1e-6);
        // Inside the window the model equals full causal attention.
        TinyModels.AssertClose(full.Forward(TinyModels.Ids(a)).Narrow(1, 0, 4), la.Narrow(1, 0, 4), 1e-5);
        using var differs = (full.Forward(TinyModels.Ids(a)).Narrow(1, 4, 6) - la.Narrow(1, 4, 6)).Abs().Max();
        Assert.True(differs.ToDouble() > 1e-5);
        // And the cached path applies the same window.
        using var cache = new KeyValueCache(config, 1, 10);
        var first = windowed.Forward(TinyModels.Ids(a[..6]), cache);
        var rest = windowed.Forward(TinyModels.Ids(a[6..]), cache);
        TinyModels.AssertClose(la, Tensor.Cat([first, rest], 1), 1e-5);
    }

    [Fact]
    public void MixtureOfIdenticalExpertsEqualsTheDenseMlp()
    {
        TorchRuntime.ManualSeed(10);
        using var scope = DisposeScope.Open();
        var dense = TinyModels.Llama(layers: 1);
        using var mlp = new LlamaModel(dense);
        using var moe = new LlamaModel(dense with { Experts = 4, ExpertsPerToken = 2 });
        var source = mlp.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor);
        using (NoGradScope.Enter())
        {
            foreach (var (name, tensor) in moe.NamedParameters())
            {
                var mapped = name
                    .Replace("block_sparse_moe.experts.0.", "mlp.").Replace("block_sparse_moe.experts.1.", "mlp.")
                    .Replace("block_sparse_moe.experts.2.", "mlp.").Replace("block_sparse_moe.experts.3.", "mlp.")
                    .Replace("mlp.w1", "mlp.gate_proj").Replace("mlp.w3", "mlp.up_proj").Replace("mlp.w2", "mlp.down_proj");
                if (source.TryGetValue(mapped, out var value)) tensor.CopyFrom(value);
            }
        }
        Assert.Contains(moe.NamedParameters(), p => p.Name == "model.layers.0.block_sparse_moe.gate.weight");
        Assert.Contains(moe.NamedParameters(), p => p.Name == "model.layers.0.block_sparse_moe.experts.3.w2.weight");
        var ids = TinyModels.Ids(TinyModels.RandomIds(7, 61, seed: 10));
        TinyModels.AssertClose(mlp.Forward(ids), moe.Forward(ids), 1e-5);
    }

    [Fact]
    public void InvalidConfigurationListsEveryProblem()
    {
        var bad = TinyModels.Llama() with { Heads = 3, KeyValueHeads = 2, Experts = 2, ExpertsPerToken = 3 };
        var e = Assert.Throws<ArgumentException>(() => new LlamaModel(bad));
        Assert.Contains("not divisible by 3 heads", e.Message);
        Assert.Contains("3 heads are not divisible by 2 key/value heads", e.Message);
        Assert.Contains("experts per token", e.Message);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma2")]
    [InlineData("qwen3")]
    public void TrainingLowersTheLossOnARepeatedSequence(string family)
    {
        TorchRuntime.ManualSeed(11);
        using var model = new LlamaModel(family switch
        {
            "gemma2" => TinyModels.Gemma2() with { FinalSoftcap = 30 }, // Gemma's own cap; the test's 2 would bound the loss
            "qwen3" => TinyModels.Qwen3(),
            _ => TinyModels.Llama(),
        });
        using var optimizer = new FuseChat.Torch.Optim.AdamW(model.Parameters(), new() { LearningRate = 1e-2 });
        var ids = TinyModels.RandomIds(16, 61, seed: 11);
        double first = 0, last = 0;
        for (var step = 0; step < 60; step++)
        {
            using var scope = DisposeScope.Open();
            var loss = model.Loss(TinyModels.Ids(ids));
            if (step == 0) first = loss.ToDouble();
            last = loss.ToDouble();
            loss.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        Assert.True(last < first * 0.3, $"loss {first} -> {last}");
    }
}
