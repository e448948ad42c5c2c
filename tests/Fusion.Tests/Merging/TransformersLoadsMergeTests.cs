using System.Runtime.InteropServices;
using System.Text.Json;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Merging;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Tests.Models;
using FuseChat.Fusion.Tests.Support;
using FuseChat.Fusion.Tokenization;
using FuseChat.Fusion.Tests.Tokenization;
using FuseChat.Torch;
using Xunit.Abstractions;

namespace FuseChat.Fusion.Tests.Merging;

/// <summary>
/// The merge's output is a Hugging Face folder in the words: here transformers itself loads one (sharded
/// safetensors with an index, our config.json, the base's tokenizer files) with nothing missing, unexpected or
/// mismatched, computes the logits we compute, and AutoTokenizer encodes as our tokenizer does.
/// </summary>
public sealed class TransformersLoadsMergeTests(TransformersParityFixture fixture, ITestOutputHelper output) : IClassFixture<TransformersParityFixture>
{
    private const string Text = "FuseChat merges chat models: 3 sources, one pivot.";

    [Fact]
    public void TransformersLoadsAnSceMergeAndOurBf16Checkpoint()
    {
        var python = fixture.Python;
        var root = python.HostPath("merge");
        Directory.CreateDirectory(root);
        // The base is the Qwen2 checkpoint transformers wrote (biases, tied embeddings, rope_parameters); the two
        // sources are it plus different noise, saved by us ("a" in bf16). The base carries a real tokenizer.
        var pivot = Path.Combine(root, "pivot");
        Directory.CreateDirectory(pivot);
        foreach (var file in Directory.GetFiles(fixture.Folder("qwen2")))
            File.Copy(file, Path.Combine(pivot, Path.GetFileName(file)));
        foreach (var file in Directory.GetFiles(TokenizerFixtures.ModelDir("qwen3")))
            File.Copy(file, Path.Combine(pivot, Path.GetFileName(file)));
        using (var scope = DisposeScope.Open())
        {
            foreach (var (name, seed) in new[] { ("a", 1), ("b", 2) })
            {
                var (model, config) = PretrainedModel.Load(pivot);
                using (model)
                {
                    AddNoise(model, seed);
                    PretrainedModel.Save(model, config, Path.Combine(root, name), name == "a" ? DType.BFloat16 : DType.Float32);
                }
            }
        }

        File.WriteAllText(Path.Combine(root, "recipe.yaml"), """
            merge_method: sce
            base_model: pivot
            models:
              - model: a
              - model: b
            parameters:
              select_topk: 0.5
            dtype: float32
            """);
        var merged = Path.Combine(root, "fused");
        CheckpointMerger.Run(MergeRecipe.Parse(File.ReadAllText(Path.Combine(root, "recipe.yaml"))), root, merged, maxShardBytes: 20_000);
        Assert.True(File.Exists(Path.Combine(merged, "model.safetensors.index.json")), "small shards must give an index");
        Assert.True(Directory.GetFiles(merged, "model-*-of-*.safetensors").Length > 1);

        using var report = LoadWithTransformers(python, "merge/fused", "merged");
        var tokenizer = HfTokenizer.Load(merged);
        Assert.Equal(tokenizer.Encode(Text, addSpecialTokens: true),
            report.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));

        // A fusion target is written like source "a" (PretrainedModel.Save), on a GPU in bf16: transformers reads that too.
        LoadWithTransformers(python, "merge/a", "source a (bf16)").Dispose();
    }

    /// <summary>
    /// A fusion target of the newer families, written by us (config.json in our spelling: Gemma2's hidden_activation,
    /// layer_types and soft caps; Qwen3's head width), is what transformers loads into the same model.
    /// </summary>
    [Theory]
    [InlineData("gemma2", "Gemma2ForCausalLM")]
    [InlineData("qwen3", "Qwen3ForCausalLM")]
    [InlineData("gemma3", "Gemma3ForCausalLM")]
    // From a multimodal Gemma 3 comes a text model: its language model, which transformers loads as Gemma3ForCausalLM.
    [InlineData("gemma3-vision", "Gemma3ForCausalLM")]
    [InlineData("mistral3-vision", "MistralForCausalLM")]
    // Our config.json says num_experts (as the published files do) where transformers 5 wrote num_local_experts.
    [InlineData("qwen3-moe", "Qwen3MoeForCausalLM")]
    [InlineData("qwen2-moe", "Qwen2MoeForCausalLM")]
    [InlineData("smollm3", "SmolLM3ForCausalLM")]
    [InlineData("olmo2", "Olmo2ForCausalLM")]
    [InlineData("olmo3", "Olmo3ForCausalLM")]
    [InlineData("exaone4", "Exaone4ForCausalLM")]
    [InlineData("glm4", "Glm4ForCausalLM")]
    [InlineData("ernie4_5", "Ernie4_5ForCausalLM")]
    public void TransformersLoadsATargetWeSaved(string family, string className)
    {
        var python = fixture.Python;
        var folder = $"merge/{family}-target";
        using (var scope = DisposeScope.Open())
        {
            var (model, config) = PretrainedModel.Load(fixture.Folder(family));
            using (model)
            {
                AddNoise(model, seed: 3);
                PretrainedModel.Save(model, config, python.HostPath(folder), DType.Float32);
            }
        }

        LoadWithTransformers(python, folder, $"{family} target", className).Dispose();
    }

    /// <summary>
    /// transformers loads <paramref name="folder"/> (relative to the workspace) with nothing missing, unexpected or
    /// mismatched, and its logits for fixed ids match ours within 1e-4. Returns the script's report.
    /// </summary>
    private JsonDocument LoadWithTransformers(ReferencePython python, string folder, string what, string className = "Qwen2ForCausalLM")
    {
        Directory.CreateDirectory(python.HostPath("merge"));
        long[][] ids = [[5, 17, 42, 8, 96, 0, 33, 61, 12, 7], [90, 3, 3, 71, 28, 44, 19, 2, 65, 50]];
        File.WriteAllText(python.HostPath("merge/ids.json"), JsonSerializer.Serialize(ids));
        var line = python.Run(Path.Combine("parity", "load_with_transformers.py"), python.RootPath(folder),
            python.RootPath("merge/ids.json"), Text, python.RootPath("merge/logits.safetensors")).Last();
        output.WriteLine($"{what}: {line}");
        var report = JsonDocument.Parse(line);
        Assert.Equal(className, report.RootElement.GetProperty("class").GetString());
        foreach (var entry in report.RootElement.GetProperty("loading").EnumerateObject())
            Assert.True(entry.Value.GetArrayLength() == 0, $"{what}: transformers reports {entry.Name}: {entry.Value}");

        using var scope = DisposeScope.Open();
        var (ours, _) = PretrainedModel.Load(python.HostPath(folder));
        using (ours)
        using (var noGrad = NoGradScope.Enter())
        using (var file = SafetensorsFile.Open(python.HostPath("merge/logits.safetensors")))
        {
            var mine = ours.Forward(Tensor.From<long>(ids.SelectMany(r => r).ToArray(), [2, 10])).ToArray<float>();
            var theirs = MemoryMarshal.Cast<byte, float>(file.GetSpan("logits")).ToArray();
            Assert.Equal(theirs.Length, mine.Length);
            var worst = mine.Zip(theirs, (x, y) => Math.Abs(x - y)).Max();
            output.WriteLine($"{what}: max |ours - transformers| over {mine.Length} logits: {worst:E2}");
            Assert.True(worst <= 1e-4, $"{what}: logits differ by {worst}");
        }

        return report;
    }

    private static void AddNoise(LlamaModel model, int seed)
    {
        var random = new Random(seed);
        using var noGrad = NoGradScope.Enter();
        using var scope = DisposeScope.Open();
        foreach (var (_, tensor) in model.NamedParameters())
        {
            var noise = new float[tensor.NumberOfElements];
            for (var i = 0; i < noise.Length; i++) noise[i] = (float)(random.NextDouble() - 0.5) * 0.02f;
            tensor.CopyFrom(tensor + Tensor.From<float>(noise, tensor.Shape));
        }
    }
}
