using FuseChat.Fusion.Checkpoints;

namespace FuseChat.Fusion.Tests.Checkpoints;

public class ModelTensorLayoutTests
{
    private static ModelConfig Tiny(string sample, bool tied = false) => ConfigSamples.Tiny(sample) with { TieWordEmbeddings = tied };

    private static void WriteCheckpoint(string folder, IEnumerable<(string Name, long[] Shape)> tensors, long maxShard = 600)
    {
        var declarations = tensors.Select(t => new TensorDeclaration(t.Name, SafetensorsDType.BF16, [.. t.Shape])).ToList();
        using var writer = new ShardedCheckpointWriter(folder, declarations, maxShard);
        foreach (var d in declarations)
        {
            writer.WriteTensor(d.Name, new byte[d.ByteLength]);
        }

        writer.Complete();
    }

    private static IEnumerable<(string Name, long[] Shape)> Expected(ModelTensorLayout layout)
        => layout.Tensors.Select(t => (t.Name, t.Shape.ToArray()));

    [Fact]
    public void LlamaLayoutHasEveryTensor()
    {
        var layout = ModelTensorLayout.For(Tiny(ConfigSamples.Llama2_7B));
        var names = layout.Tensors.Select(t => t.Name).ToList();
        Assert.Equal(1 + (2 * 9) + 2, names.Count);
        Assert.Equal("model.embed_tokens.weight", names[0]);
        Assert.Equal("lm_head.weight", names[^1]);
        Assert.Contains("model.layers.1.mlp.down_proj.weight", names);
        Assert.DoesNotContain(names, n => n.EndsWith(".bias", StringComparison.Ordinal));
        Assert.True(layout.TryGet("model.layers.0.self_attn.k_proj.weight", out var k));
        Assert.Equal("[4, 8]", k.FormatShape());
        Assert.True(layout.TryGet("model.layers.0.self_attn.o_proj.weight", out var o));
        Assert.Equal("[8, 8]", o.FormatShape());
        Assert.True(layout.TryGet("model.layers.0.mlp.down_proj.weight", out var down));
        Assert.Equal("[8, 12]", down.FormatShape());
    }

    [Fact]
    public void Qwen2HasQkvBiasesAndTiedModelsHaveNoLmHead()
    {
        var layout = ModelTensorLayout.For(Tiny(ConfigSamples.Qwen15_7BChat, tied: true));
        Assert.True(layout.TryGet("model.layers.0.self_attn.q_proj.bias", out var q));
        Assert.Equal("[8]", q.FormatShape());
        Assert.True(layout.TryGet("model.layers.1.self_attn.v_proj.bias", out var v));
        Assert.Equal("[4]", v.FormatShape());
        Assert.False(layout.Contains("model.layers.0.self_attn.o_proj.bias"));
        Assert.False(layout.Contains("lm_head.weight"));
    }

    [Fact]
    public void MixtralHasRouterAndExperts()
    {
        var layout = ModelTensorLayout.For(Tiny(ConfigSamples.Mixtral8x7B));
        Assert.False(layout.Contains("model.layers.0.mlp.up_proj.weight"));
        Assert.True(layout.TryGet("model.layers.0.block_sparse_moe.gate.weight", out var gate));
        Assert.Equal("[3, 8]", gate.FormatShape());
        Assert.True(layout.TryGet("model.layers.1.block_sparse_moe.experts.2.w1.weight", out var w1));
        Assert.Equal("[12, 8]", w1.FormatShape());
        Assert.True(layout.TryGet("model.layers.1.block_sparse_moe.experts.2.w2.weight", out var w2));
        Assert.Equal("[8, 12]", w2.FormatShape());
        Assert.True(layout.Contains("model.layers.1.block_sparse_moe.experts.2.w3.weight"));
        Assert.False(layout.Contains("model.layers.1.block_sparse_moe.experts.3.w3.weight"));
    }

    [Fact]
    public void Gemma2HasFourNormsPerLayerAndQwen3HasHeadNorms()
    {
        var gemma = ModelTensorLayout.For(Tiny(ConfigSamples.Gemma2_9B_It, tied: true));
        foreach (var norm in new[] { "input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm" })
            Assert.True(gemma.Contains($"model.layers.1.{norm}.weight"), norm);
        Assert.False(gemma.Contains("lm_head.weight"));
        Assert.False(gemma.Contains("model.layers.0.self_attn.q_norm.weight"));

        var qwen3 = ModelTensorLayout.For(Tiny(ConfigSamples.Qwen3_8B));
        Assert.True(qwen3.TryGet("model.layers.0.self_attn.q_norm.weight", out var q));
        Assert.Equal("[2]", q.FormatShape()); // one head's width
        Assert.True(qwen3.Contains("model.layers.1.self_attn.k_norm.weight"));
        Assert.False(qwen3.Contains("model.layers.0.self_attn.q_proj.bias"));
        Assert.False(qwen3.Contains("model.layers.0.pre_feedforward_layernorm.weight"));
    }

    [Theory]
    [MemberData(nameof(ConfigSamples.Names), MemberType = typeof(ConfigSamples))]
    public void CompleteShardedCheckpointValidates(string sample)
    {
        var layout = ModelTensorLayout.For(Tiny(ConfigSamples.ByName(sample)));
        using var dir = new TempFolder();
        WriteCheckpoint(dir.Path, Expected(layout));
        using var reader = CheckpointReader.Open(dir.Path);
        Assert.True(reader.IsSharded);
        layout.Validate(reader);
        Assert.Empty(layout.FindProblems(reader));
    }

    [Fact]
    public void MissingExtraAndMisshapedTensorsAreAllReportedAtOnce()
    {
        var layout = ModelTensorLayout.For(Tiny(ConfigSamples.Mistral7B));
        var tensors = Expected(layout)
            .Where(t => t.Name != "model.layers.1.post_attention_layernorm.weight")
            .Select(t => t.Name == "model.layers.0.self_attn.k_proj.weight" ? (t.Name, new long[] { 8, 8 }) : t)
            .Append(("model.layers.0.self_attn.q_proj.bias", new long[] { 8 }))
            .Append(("model.layers.0.self_attn.rotary_emb.inv_freq", new long[] { 1 }))
            .ToList();
        using var dir = new TempFolder();
        WriteCheckpoint(dir.Path, tensors);
        using var reader = CheckpointReader.Open(dir.Path);

        var e = Assert.Throws<CheckpointValidationException>(() => layout.Validate(reader));
        Assert.Equal(3, e.Problems.Count);
        Assert.Contains(dir.Path, e.Message, StringComparison.Ordinal);
        Assert.Contains("MistralForCausalLM", e.Message, StringComparison.Ordinal);
        Assert.Contains("missing tensor 'model.layers.1.post_attention_layernorm.weight' (expected shape [8])", e.Message, StringComparison.Ordinal);
        Assert.Matches(@"tensor 'model\.layers\.0\.self_attn\.k_proj\.weight' in 'model-\d{5}-of-\d{5}\.safetensors' has shape \[8, 8\], expected \[4, 8\]", e.Message);
        Assert.Matches(@"unexpected tensor 'model\.layers\.0\.self_attn\.q_proj\.bias' in 'model-\d{5}-of-\d{5}\.safetensors'", e.Message);
    }

    [Fact]
    public void TiedModelMayStillCarryLmHead()
    {
        var layout = ModelTensorLayout.For(Tiny(ConfigSamples.Qwen15_7BChat, tied: true));
        using var dir = new TempFolder();
        WriteCheckpoint(dir.Path, Expected(layout).Append(("lm_head.weight", new long[] { 16, 8 })), long.MaxValue);
        using var reader = CheckpointReader.Open(dir.Path);
        layout.Validate(reader);
    }
}
