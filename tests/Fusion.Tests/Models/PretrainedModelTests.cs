using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Tests.Checkpoints;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Models;

public class PretrainedModelTests
{
    private const string LlamaJson = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 61, "hidden_size": 32,
         "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
         "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 128, "tie_word_embeddings": false,
         "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "torch_dtype": "float32"}
        """;

    private const string QwenJson = """
        {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 70, "hidden_size": 32,
         "intermediate_size": 40, "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4,
         "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "max_position_embeddings": 128, "tie_word_embeddings": true,
         "use_sliding_window": false, "sliding_window": 64, "hidden_act": "silu"}
        """;

    private const string MixtralJson = """
        {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "vocab_size": 50, "hidden_size": 16,
         "intermediate_size": 24, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
         "num_local_experts": 3, "num_experts_per_tok": 2, "rms_norm_eps": 1e-5, "rope_theta": 1000000.0,
         "max_position_embeddings": 64, "sliding_window": null, "hidden_act": "silu"}
        """;

    [Theory]
    [InlineData(LlamaJson)]
    [InlineData(QwenJson)]
    [InlineData(MixtralJson)]
    public void SaveThenLoadIsBitExactAndComputesTheSameLogits(string json)
    {
        TorchRuntime.ManualSeed(21);
        using var scope = DisposeScope.Open();
        using var folder = new TempFolder();
        var config = ModelConfig.Parse(json);
        using var model = new LlamaModel(DecoderConfig.From(config));
        PretrainedModel.Save(model, config, folder.Path);
        var (loaded, loadedConfig) = PretrainedModel.Load(folder.Path);
        using (loaded)
        {
            Assert.Equal(config.Architecture, loadedConfig.Architecture);
            var expected = model.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.ToArray<float>());
            foreach (var (name, tensor) in loaded.NamedParameters())
                Assert.Equal(expected[name], tensor.ToArray<float>());
            var ids = TinyModels.Ids([1, 5, 9, 3]);
            TinyModels.AssertClose(model.Forward(ids), loaded.Forward(ids), 0);
        }
    }

    [Fact]
    public void ShardedCheckpointLoadsLikeASingleFile()
    {
        TorchRuntime.ManualSeed(22);
        using var scope = DisposeScope.Open();
        using var single = new TempFolder();
        using var sharded = new TempFolder();
        var config = ModelConfig.Parse(LlamaJson);
        using var model = new LlamaModel(DecoderConfig.From(config));
        PretrainedModel.Save(model, config, single.Path);
        PretrainedModel.Save(model, config, sharded.Path, maxShardBytes: 16_000);
        Assert.True(File.Exists(Path.Combine(sharded.Path, "model.safetensors.index.json")));
        Assert.True(Directory.GetFiles(sharded.Path, "model-*-of-*.safetensors").Length > 2);
        var (a, _) = PretrainedModel.Load(single.Path);
        var (b, _) = PretrainedModel.Load(sharded.Path);
        using (a)
        using (b)
        {
            var ids = TinyModels.Ids([4, 8, 15, 16, 23, 42]);
            TinyModels.AssertClose(a.Forward(ids), b.Forward(ids), 0);
        }
    }

    [Fact]
    public void Bf16CheckpointHoldsTheRoundedWeights()
    {
        TorchRuntime.ManualSeed(23);
        using var scope = DisposeScope.Open();
        using var folder = new TempFolder();
        var config = ModelConfig.Parse(LlamaJson);
        using var model = new LlamaModel(DecoderConfig.From(config));
        PretrainedModel.Save(model, config, folder.Path, DType.BFloat16);
        Assert.Equal("bfloat16", ModelConfig.Load(folder.Path).TorchDtype);
        using var reader = CheckpointReader.Open(folder.Path);
        Assert.All(reader.EnumerateTensors(), t => Assert.Equal(SafetensorsDType.BF16, t.DType));
        var (loaded, _) = PretrainedModel.Load(folder.Path, DType.BFloat16);
        using (loaded)
        {
            var original = model.NamedParameters().First(p => p.Name == "model.layers.1.mlp.up_proj.weight").Tensor;
            var back = loaded.NamedParameters().First(p => p.Name == "model.layers.1.mlp.up_proj.weight").Tensor;
            Assert.Equal(original.To(DType.BFloat16).To(DType.Float32).ToArray<float>(), back.To(DType.Float32).ToArray<float>());
        }
    }

    /// <summary>
    /// Gemma 3 4B and up are multimodal checkpoints: the language model under "language_model.model." (the published
    /// files, transformers 4) or "model.language_model." (transformers 5's own names), a vision tower beside it, the text
    /// config nested. They load as the text model they hold, and are saved back as one.
    /// </summary>
    [Theory]
    [InlineData("language_model.model.", "language_model.lm_head.")]
    [InlineData("model.language_model.", "lm_head.")]
    public void AMultimodalGemma3LoadsAsItsLanguageModel(string modelPrefix, string headPrefix)
    {
        TorchRuntime.ManualSeed(25);
        using var scope = DisposeScope.Open();
        using var text = new TempFolder();
        using var multimodal = new TempFolder();
        var textConfig = ModelConfig.Parse(ConfigSamples.Gemma3_1B_It) with
        {
            VocabSize = 61, HiddenSize = 16, IntermediateSize = 24, NumHiddenLayers = 2, NumAttentionHeads = 2, NumKeyValueHeads = 1,
            HeadDim = 8, SlidingWindow = 4, SlidingLayers = [true, false], TieWordEmbeddings = false,
        };
        using var model = new LlamaModel(DecoderConfig.From(textConfig));
        PretrainedModel.Save(model, textConfig, text.Path);
        using (var reader = CheckpointReader.Open(text.Path))
        {
            var renamed = reader.EnumerateTensors()
                .Select(t => (Info: t, Name: t.Name.StartsWith("model.", StringComparison.Ordinal) ? modelPrefix + t.Name["model.".Length..] : headPrefix + t.Name["lm_head.".Length..]))
                .Select(t => (Declaration: TensorDeclaration.From(t.Info) with { Name = t.Name }, Data: reader.ReadBytes(t.Info.Name)))
                .Append((Declaration: new TensorDeclaration("vision_tower.embeddings.patch_embedding.weight", SafetensorsDType.F32, [4, 3]), Data: new byte[48]))
                .Append((Declaration: new TensorDeclaration("multi_modal_projector.mm_input_projection_weight", SafetensorsDType.F32, [4, 16]), Data: new byte[256]));
            SafetensorsTestData.Write(Path.Combine(multimodal.Path, CheckpointReader.SingleFileName), renamed);
        }
        var inner = System.Text.Json.Nodes.JsonNode.Parse(textConfig.ToJson())!.AsObject();
        inner.Remove("architectures");
        File.WriteAllText(Path.Combine(multimodal.Path, ModelConfig.FileName), $$$"""
            {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3", "mm_tokens_per_image": 256,
             "text_config": {{{inner.ToJsonString()}}}, "vision_config": {"hidden_size": 4, "model_type": "siglip_vision_model"}}
            """);

        using (var reader = CheckpointReader.Open(multimodal.Path))
        {
            Assert.Equal(modelPrefix, reader.LanguageModelPrefix);
            Assert.Contains("model.embed_tokens.weight", reader.TensorNames);
            Assert.Contains("lm_head.weight", reader.TensorNames);
            Assert.DoesNotContain(reader.TensorNames, n => n.Contains("vision", StringComparison.Ordinal) || n.Contains("projector", StringComparison.Ordinal));
            Assert.Equal("model.norm.weight", reader.GetTensor("model.norm.weight").Name);
        }

        // What `fusechat inspect` shows: the declared class, the language model's place, no tensor problems (only the
        // tokenizer this test does not write).
        var inspection = ModelInspection.Of(multimodal.Path);
        Assert.Equal(("Gemma3ForConditionalGeneration", modelPrefix), (inspection.DeclaredClass, inspection.LanguageModelPrefix));
        Assert.Equal(["no usable tokenizer"], inspection.Problems.Select(p => p[..p.IndexOf(':', StringComparison.Ordinal)]));
        Assert.Contains("sliding layers theta 10000", inspection.Rotation, StringComparison.Ordinal);

        var (loaded, config) = PretrainedModel.Load(multimodal.Path);
        using (loaded)
        {
            Assert.Equal((ModelArchitecture.Gemma3, "Gemma3ForCausalLM"), (config.Architecture, config.ArchitectureName));
            Assert.DoesNotContain("vision_config", config.ToJson(), StringComparison.Ordinal);
            var ids = TinyModels.Ids([1, 5, 9, 2, 7, 3, 8]);
            Assert.Equal(model.Forward(ids).ToArray<float>(), loaded.Forward(ids).ToArray<float>());
        }
    }

    [Fact]
    public void MissingTensorIsReportedWithItsName()
    {
        TorchRuntime.ManualSeed(24);
        using var folder = new TempFolder();
        var config = ModelConfig.Parse(LlamaJson);
        using var model = new LlamaModel(DecoderConfig.From(config));
        PretrainedModel.Save(model, config, folder.Path);
        // Rewrite the checkpoint without one tensor.
        using (var reader = CheckpointReader.Open(folder.Path))
        {
            var kept = reader.EnumerateTensors().Where(t => t.Name != "model.layers.1.self_attn.v_proj.weight").ToList();
            var data = kept.ToDictionary(t => t.Name, t => reader.ReadBytes(t.Name));
            using var other = new TempFolder();
            using (var writer = new ShardedCheckpointWriter(other.Path, kept.Select(TensorDeclaration.From), long.MaxValue))
            {
                foreach (var t in kept) writer.WriteTensor(t.Name, data[t.Name]);
                writer.Complete();
            }
            reader.Dispose();
            File.Copy(Path.Combine(other.Path, "model.safetensors"), Path.Combine(folder.Path, "model.safetensors"), overwrite: true);
        }
        var e = Assert.ThrowsAny<Exception>(() => PretrainedModel.Load(folder.Path));
        Assert.Contains("model.layers.1.self_attn.v_proj.weight", e.Message);
    }
}
