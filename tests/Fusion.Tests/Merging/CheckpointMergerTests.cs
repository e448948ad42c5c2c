using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Merging;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Tests.Checkpoints;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Merging;

public class CheckpointMergerTests
{
    private const string ConfigJson = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 40, "hidden_size": 16,
         "intermediate_size": 24, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2,
         "rms_norm_eps": 1e-5, "max_position_embeddings": 32, "hidden_act": "silu"}
        """;

    private static void MakeModels(string root)
    {
        var config = ModelConfig.Parse(ConfigJson);
        foreach (var (name, seed) in new[] { ("pivot", 1UL), ("a", 2UL), ("b", 3UL) })
        {
            TorchRuntime.ManualSeed(seed);
            using var model = new LlamaModel(DecoderConfig.From(config));
            PretrainedModel.Save(model, config, Path.Combine(root, name));
        }
        File.WriteAllText(Path.Combine(root, "pivot", "tokenizer.json"), "{\"marker\": \"pivot tokenizer\"}");
    }

    private static string Recipe(string method, string extra = "") => $$"""
        merge_method: {{method}}
        base_model: pivot
        models:
          - model: a
            parameters: {weight: 0.6}
          - model: b
            parameters: {weight: 0.4}
        parameters:
          select_topk: 0.5
        {{extra}}
        dtype: float32
        """;

    [Fact]
    public void SceMergeOfFoldersEqualsTheMethodAppliedTensorByTensor()
    {
        using var root = new TempFolder();
        MakeModels(root.Path);
        var recipe = MergeRecipe.Parse(Recipe("sce"));
        var output = Path.Combine(root.Path, "fused");
        var reports = new List<MergeProgress>();
        CheckpointMerger.Run(recipe, root.Path, output, maxShardBytes: 4_000, progress: new Progress<MergeProgress>(reports.Add));

        Assert.True(File.Exists(Path.Combine(output, "model.safetensors.index.json")), "small shards must give an index");
        Assert.Equal("{\"marker\": \"pivot tokenizer\"}", File.ReadAllText(Path.Combine(output, "tokenizer.json")));
        Assert.Equal(ModelArchitecture.Llama, ModelConfig.Load(output).Architecture);
        Assert.Empty(Directory.GetDirectories(root.Path, ".fused.merging-*"));

        using var scope = DisposeScope.Open();
        using var merged = CheckpointReader.Open(output);
        using var pivot = CheckpointReader.Open(Path.Combine(root.Path, "pivot"));
        using var a = CheckpointReader.Open(Path.Combine(root.Path, "a"));
        using var b = CheckpointReader.Open(Path.Combine(root.Path, "b"));
        var method = MergeMethods.Create(recipe);
        Assert.Equal(pivot.TensorNames.OrderBy(n => n), merged.TensorNames.OrderBy(n => n));
        foreach (var name in pivot.TensorNames)
        {
            var expected = method.Merge(name, pivot.ReadTensor(name), [a.ReadTensor(name), b.ReadTensor(name)],
                recipe.Targets.Select(t => t.Parameters).ToList(), recipe.Parameters);
            Assert.Equal(expected.ToArray<float>(), merged.ReadTensor(name).ToArray<float>());
        }
        // The merged model differs from each input (the merge did something).
        var probe = "model.layers.0.mlp.up_proj.weight";
        Assert.NotEqual(pivot.ReadTensor(probe).ToArray<float>(), merged.ReadTensor(probe).ToArray<float>());
    }

    [Fact]
    public void Bf16OutputIsWrittenAndRecordedInTheConfig()
    {
        using var root = new TempFolder();
        MakeModels(root.Path);
        var output = Path.Combine(root.Path, "fused");
        CheckpointMerger.Run(MergeRecipe.Parse(Recipe("linear").Replace("dtype: float32", "dtype: bfloat16")), root.Path, output);
        using var merged = CheckpointReader.Open(output);
        Assert.All(merged.EnumerateTensors(), t => Assert.Equal(SafetensorsDType.BF16, t.DType));
        Assert.Equal("bfloat16", ModelConfig.Load(output).TorchDtype);
    }

    [Fact]
    public void IncompatibleModelFailsUpFrontAndLeavesNoFolder()
    {
        using var root = new TempFolder();
        MakeModels(root.Path);
        var wide = ModelConfig.Parse(ConfigJson.Replace("\"intermediate_size\": 24", "\"intermediate_size\": 32"));
        Directory.Delete(Path.Combine(root.Path, "b"), recursive: true);
        using (var model = new LlamaModel(DecoderConfig.From(wide))) PretrainedModel.Save(model, wide, Path.Combine(root.Path, "b"));
        var output = Path.Combine(root.Path, "fused");
        var e = Assert.Throws<InvalidDataException>(() => CheckpointMerger.Run(MergeRecipe.Parse(Recipe("sce")), root.Path, output));
        Assert.Contains("model.layers.0.mlp.up_proj.weight", e.Message);
        Assert.Contains("[32, 16]", e.Message);
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.GetDirectories(root.Path, ".fused*"));
    }

    [Fact]
    public void ExistingOutputIsKeptUnlessOverwriteIsAsked()
    {
        using var root = new TempFolder();
        MakeModels(root.Path);
        var output = Path.Combine(root.Path, "fused");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "old");
        Assert.Throws<IOException>(() => CheckpointMerger.Run(MergeRecipe.Parse(Recipe("ties")), root.Path, output));
        Assert.True(File.Exists(Path.Combine(output, "keep.txt")));
        CheckpointMerger.Run(MergeRecipe.Parse(Recipe("ties")), root.Path, output, overwrite: true);
        Assert.False(File.Exists(Path.Combine(output, "keep.txt")));
        Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));
    }

    /// <summary>Reports synchronously on the merging thread (Progress&lt;T&gt; posts asynchronously).</summary>
    private sealed class Inline(Action<MergeProgress> report) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value) => report(value);
    }

    private static Dictionary<string, byte[]> Files(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    [Fact]
    public void InterruptedMergeResumesWithoutRecomputingFinishedShardsAndGivesTheSameBytes()
    {
        using var root = new TempFolder();
        MakeModels(root.Path);
        var recipe = MergeRecipe.Parse(Recipe("sce"));
        const long shardBytes = 3_000;
        var reference = Path.Combine(root.Path, "reference");
        CheckpointMerger.Run(recipe, root.Path, reference, maxShardBytes: shardBytes);

        var output = Path.Combine(root.Path, "fused");
        using var cancel = new CancellationTokenSource();
        var firstRun = new List<string>();
        Assert.ThrowsAny<OperationCanceledException>(() => CheckpointMerger.Run(recipe, root.Path, output, maxShardBytes: shardBytes,
            progress: new Inline(p =>
            {
                if (p.CurrentTensor.Length == 0) return;
                firstRun.Add(p.CurrentTensor);
                if (firstRun.Count == 7) cancel.Cancel();
            }),
            cancellation: cancel.Token));
        Assert.Equal(7, firstRun.Count);
        Assert.False(Directory.Exists(output), "an interrupted merge must leave no output folder");
        Assert.True(Directory.Exists(CheckpointMerger.StagingFolder(output)));

        var secondRun = new List<string>();
        var resumed = -1;
        var log = new List<string>();
        CheckpointMerger.Run(recipe, root.Path, output, maxShardBytes: shardBytes, progress: new Inline(p =>
        {
            resumed = p.TensorsResumed;
            if (p.CurrentTensor.Length > 0) secondRun.Add(p.CurrentTensor);
        }), log: log.Add);

        int total;
        using (var pivot = CheckpointReader.Open(Path.Combine(root.Path, "pivot"))) total = pivot.TensorNames.Count;
        Assert.True(resumed > 0 && resumed <= 7, $"{resumed} tensors resumed, first run: {string.Join(", ", firstRun)}");
        // Exactly the tensors of unfinished shards were merged again, none of the finished ones.
        Assert.Equal(total - resumed, secondRun.Count);
        Assert.Equal(firstRun.Take(resumed), firstRun.Except(secondRun));
        Assert.Contains(log, l => l.Contains("resuming", StringComparison.Ordinal));
        Assert.False(Directory.Exists(CheckpointMerger.StagingFolder(output)));

        var expected = Files(reference);
        var actual = Files(output);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        Assert.True(expected.Count > 3, "the merge should span several shards");
        foreach (var (file, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[file]), $"{file} differs");
    }

    [Fact]
    public void AChangedRecipeDiscardsTheStagingFolder()
    {
        using var root = new TempFolder();
        MakeModels(root.Path);
        var output = Path.Combine(root.Path, "fused");
        using var cancel = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => CheckpointMerger.Run(MergeRecipe.Parse(Recipe("sce")), root.Path, output,
            maxShardBytes: 3_000, progress: new Inline(p => { if (p.ShardsDone == 2) cancel.Cancel(); }), cancellation: cancel.Token));

        var log = new List<string>();
        var merged = 0;
        var changed = MergeRecipe.Parse(Recipe("sce").Replace("select_topk: 0.5", "select_topk: 0.4"));
        CheckpointMerger.Run(changed, root.Path, output, maxShardBytes: 3_000,
            progress: new Inline(p => { if (p.CurrentTensor.Length > 0) merged++; }), log: log.Add);
        Assert.Contains(log, l => l.Contains("discarding staging folder", StringComparison.Ordinal));
        using (var pivot = CheckpointReader.Open(Path.Combine(root.Path, "pivot"))) Assert.Equal(pivot.TensorNames.Count, merged);

        var reference = Path.Combine(root.Path, "reference");
        CheckpointMerger.Run(changed, root.Path, reference, maxShardBytes: 3_000);
        var expected = Files(reference);
        foreach (var (file, bytes) in Files(output)) Assert.True(bytes.AsSpan().SequenceEqual(expected[file]), $"{file} differs");
    }
}
