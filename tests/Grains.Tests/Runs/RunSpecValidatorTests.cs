using FuseChat.Grains.Runs;

namespace FuseChat.Grains.Tests.Runs;

public sealed class RunSpecValidatorTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fusechat-spec-" + Guid.NewGuid().ToString("N"));

    public RunSpecValidatorTests()
    {
        foreach (var model in new[] { "pivot", "a", "b" })
        {
            Directory.CreateDirectory(Path.Combine(_root, "models", model));
            File.WriteAllText(Path.Combine(_root, "models", model, "config.json"), "{}");
        }

        File.WriteAllText(Path.Combine(_root, "chats.jsonl"), "");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private const string Valid = """
        name: demo
        pivot: {path: models/pivot, template: mistral}
        sources:
          - {name: a, path: models/a}
          - {name: b, path: models/b}
        data: {train: chats.jsonl}
        training: {lr: 1.0e-5, epochs: 2, checkpoint_every: 10, dtype: bf16}
        output: {folder: out}
        """;

    [Fact]
    public void ValidSpecResolvesPathsAgainstTheSpecFolderAndKeepsDefaults()
    {
        var result = RunSpecValidator.Validate(Valid, _root);
        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        var spec = result.Spec!;
        Assert.Equal(Path.Combine(_root, "models", "pivot"), spec.Pivot.Path);
        Assert.Equal(["a", "b"], spec.Sources.Select(s => s.Name));
        Assert.Equal(Path.Combine(_root, "chats.jsonl"), spec.Data.Train);
        Assert.Equal(Path.Combine(_root, "out"), spec.OutputFolder);
        Assert.Equal(10, spec.Representation.TopK);
        Assert.Equal("bf16", spec.Training.Dtype);
        Assert.Equal(1e-5, spec.Training.LearningRate);
        Assert.Equal("sce", spec.Merge.Method);
        Assert.Equal(0.1, spec.Merge.SelectTopK);
    }

    [Fact]
    public void MergeRangesAndShardBytesGoWithMethodSettingsOrARecipe()
    {
        File.WriteAllText(Path.Combine(_root, "recipe.yaml"), "merge_method: sce\nmodels:\n  - model: a\n  - model: b\nparameters: {select_topk: 0.1}\n");
        var withRecipe = RunSpecValidator.Validate(Valid.Replace("output:", "merge: {recipe: recipe.yaml, ranges: 2, shard_bytes: 2.0e+9}\noutput:"), _root);
        Assert.True(withRecipe.IsValid, string.Join("\n", withRecipe.Problems));
        Assert.Equal(2, withRecipe.Spec!.Merge.Ranges);
        Assert.Equal(2_000_000_000, withRecipe.Spec.Merge.ShardBytes);

        var withMethod = RunSpecValidator.Validate(Valid.Replace("output:", "merge: {method: ties, ranges: 8}\noutput:"), _root);
        Assert.True(withMethod.IsValid, string.Join("\n", withMethod.Problems));
        Assert.Equal(8, withMethod.Spec!.Merge.Ranges);
        Assert.Equal(5_000_000_000, withMethod.Spec.Merge.ShardBytes);

        Assert.Equal(4, RunSpecValidator.Validate(Valid, _root).Spec!.Merge.Ranges);
        var bad = RunSpecValidator.Validate(Valid.Replace("output:", "merge: {ranges: 0}\noutput:"), _root);
        Assert.Contains(bad.Problems, p => p.Contains("merge.ranges", StringComparison.Ordinal));

        // parallel_ranges: all ranges at once unless given; with a recipe too; at least 1.
        Assert.Equal(0, withMethod.Spec.Merge.ParallelRanges);
        var capped = RunSpecValidator.Validate(Valid.Replace("output:", "merge: {recipe: recipe.yaml, ranges: 4, parallel_ranges: 2}\noutput:"), _root);
        Assert.True(capped.IsValid, string.Join("\n", capped.Problems));
        Assert.Equal(2, capped.Spec!.Merge.ParallelRanges);
        Assert.Equal(2, new RunPlan("run-1", capped.Spec).Merge().ParallelRanges);
        var zero = RunSpecValidator.Validate(Valid.Replace("output:", "merge: {parallel_ranges: 0}\noutput:"), _root);
        Assert.Contains(zero.Problems, p => p.Contains("merge.parallel_ranges", StringComparison.Ordinal));
    }

    [Fact]
    public void GradientCheckpointingIsOffUnlessTheSpecTurnsItOnAndReachesTheFusionWork()
    {
        var plain = RunSpecValidator.Validate(Valid, _root);
        Assert.False(plain.Spec!.Training.GradientCheckpointing);
        Assert.False(new RunPlan("run-1", plain.Spec).Fusion("a").GradientCheckpointing);

        var on = RunSpecValidator.Validate(Valid.Replace("dtype: bf16}", "dtype: bf16, gradient_checkpointing: true}"), _root);
        Assert.True(on.IsValid, string.Join("\n", on.Problems));
        Assert.True(on.Spec!.Training.GradientCheckpointing);
        Assert.True(new RunPlan("run-1", on.Spec).Fusion("b").GradientCheckpointing);

        var bad = RunSpecValidator.Validate(Valid.Replace("dtype: bf16}", "dtype: bf16, gradient_checkpointing: sometimes}"), _root);
        Assert.Contains("training.gradient_checkpointing: expected true or false, got 'sometimes'", bad.Problems);
    }

    [Fact]
    public void OptimizerOffloadIsOffUnlessTheSpecTurnsItOnAndReachesTheFusionWork()
    {
        Assert.False(new RunPlan("run-1", RunSpecValidator.Validate(Valid, _root).Spec!).Fusion("a").OptimizerOffload);
        var on = RunSpecValidator.Validate(Valid.Replace("dtype: bf16}", "dtype: bf16, optimizer_offload: true}"), _root);
        Assert.True(on.IsValid, string.Join("\n", on.Problems));
        Assert.True(new RunPlan("run-1", on.Spec!).Fusion("a").OptimizerOffload);
        var bad = RunSpecValidator.Validate(Valid.Replace("dtype: bf16}", "dtype: bf16, optimizer_offload: 2}"), _root);
        Assert.Contains("training.optimizer_offload: expected true or false, got '2'", bad.Problems);
    }

    [Fact]
    public void EveryProblemIsListedAtOnce()
    {
        const string yaml = """
            pivot: {path: models/pivot, template: klingon}
            sources:
              - {name: a, path: models/a}
              - {name: a, path: models/b}
              - {name: c, path: "https://account.blob.core.windows.net/models/c"}
              - {name: d, path: models/nowhere}
            data: {eval_chats: held-out.jsonl}
            representation: {top_k: 0, shard_size: many}
            training: {lr: 5.0e-6, lambda: 1.5, epochs: 0, colour: blue}
            merge: {method: magic}
            output: {folder: out}
            """;
        var result = RunSpecValidator.Validate(yaml, _root);
        Assert.False(result.IsValid);
        Assert.Null(result.Spec);
        var problems = result.Problems;
        void Has(string start, string fragment) =>
            Assert.True(problems.Any(p => p.StartsWith(start, StringComparison.Ordinal) && p.Contains(fragment, StringComparison.Ordinal)),
                $"no problem '{start} ... {fragment}' in:\n{string.Join("\n", problems)}");
        Has("name", "missing");
        Has("pivot.template", "unknown template 'klingon'");
        Has("pivot.template", "mistral");
        Has("sources[1].name", "duplicate source name 'a'");
        Has("sources[2].path", "artifact:PREFIX");
        Has("sources[3].path", "does not exist");
        Has("data.train", "missing");
        Has("data.eval_chats", "does not exist");
        Has("representation.top_k", "out of range");
        Has("representation.shard_size", "expected a whole number");
        Has("training.lambda", "out of range");
        Has("training.epochs", "out of range");
        Has("training: unknown key 'colour'", "");
        Has("merge.method", "unknown method 'magic'");
        Assert.Equal(13, problems.Count);
    }

    [Fact]
    public void RecipeFileNamesSourcesAndUnknownNamesAreProblems()
    {
        File.WriteAllText(Path.Combine(_root, "recipe.yaml"), """
            merge_method: ties
            models:
              - model: a
                parameters: {weight: 0.5, density: 0.6}
              - model: zed
            parameters: {normalize: true}
            """);
        var yaml = Valid.Replace("output:", "merge: {recipe: recipe.yaml}\noutput:", StringComparison.Ordinal);
        var result = RunSpecValidator.Validate(yaml, _root);
        var problem = Assert.Single(result.Problems);
        Assert.Contains("'zed' is neither a source", problem, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(_root, "recipe.yaml"), """
            merge_method: ties
            models:
              - model: a
                parameters: {weight: 0.5, density: 0.6}
              - model: b
                parameters: {weight: 0.5, density: 0.6}
            """);
        Assert.True(RunSpecValidator.Validate(yaml, _root).IsValid);
    }

    [Fact]
    public void AlignmentParallelShardsDefaultsToFourAndMustBePositive()
    {
        Assert.Equal(4, RunSpecValidator.Validate(Valid, _root).Spec!.Alignment.ParallelShards);
        var eight = RunSpecValidator.Validate(Valid.Replace("output: {folder: out}", "alignment: {parallel_shards: 8}\noutput: {folder: out}", StringComparison.Ordinal), _root);
        Assert.True(eight.IsValid, string.Join("\n", eight.Problems));
        Assert.Equal(8, eight.Spec!.Alignment.ParallelShards);
        var zero = RunSpecValidator.Validate(Valid.Replace("output: {folder: out}", "alignment: {parallel_shards: 0}\noutput: {folder: out}", StringComparison.Ordinal), _root);
        Assert.Contains(zero.Problems, p => p.StartsWith("alignment.parallel_shards", StringComparison.Ordinal) && p.Contains("out of range", StringComparison.Ordinal));
    }

    [Fact]
    public void ArtifactModelPathsLiveInTheRunsWorkFolderAndOtherUrisAreRefused()
    {
        var yaml = Valid.Replace("models/pivot", "artifact:models/openchat/", StringComparison.Ordinal);
        var result = RunSpecValidator.Validate(yaml, _root);
        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        Assert.Equal(Path.Combine(_root, "out", "work", "artifacts", "models", "openchat"), result.Spec!.Pivot.Path);
        Assert.Equal(["models/openchat"], RunSpecValidator.ArtifactModelPrefixes(result.Spec));

        var bad = RunSpecValidator.Validate(Valid.Replace("models/pivot", "artifact:models/../x", StringComparison.Ordinal), _root);
        Assert.Contains(bad.Problems, p => p.StartsWith("pivot.path", StringComparison.Ordinal) && p.Contains("not a usable artifact key", StringComparison.Ordinal));
        var data = RunSpecValidator.Validate(yaml.Replace("train: chats.jsonl", "train: 'artifact:data/chats.jsonl'", StringComparison.Ordinal), _root);
        Assert.True(data.IsValid, string.Join("\n", data.Problems));
        Assert.Equal(Path.Combine(_root, "out", "work", "artifacts", "data", "chats.jsonl"), data.Spec!.Data.Train);
        Assert.Equal(["data/chats.jsonl"], RunSpecValidator.ArtifactDataKeys(data.Spec));
        var badData = RunSpecValidator.Validate(Valid.Replace("train: chats.jsonl", "train: 'artifact:../chats.jsonl'", StringComparison.Ordinal), _root);
        Assert.Contains(badData.Problems, p => p.StartsWith("data.train", StringComparison.Ordinal) && p.Contains("not a usable artifact key", StringComparison.Ordinal));
        var uri = RunSpecValidator.Validate(Valid.Replace("models/pivot", "https://account.blob.core.windows.net/models/pivot", StringComparison.Ordinal), _root);
        Assert.Contains(uri.Problems, p => p.StartsWith("pivot.path", StringComparison.Ordinal) && p.Contains("artifact:PREFIX", StringComparison.Ordinal));
    }
}
