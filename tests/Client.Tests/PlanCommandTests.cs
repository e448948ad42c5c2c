using System.Text.Json;
using FuseChat.Client.Commands;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Templates;
using FuseChat.Grains.Runs;
using FuseChat.Testing.Support;
using FuseChat.Torch;

namespace FuseChat.Client.Tests;

public sealed class PlanCommandTests : IDisposable
{
    // hidden 16, intermediate 32, one layer, 2 heads of 8, one key/value head, vocabulary 32000, untied:
    // embeddings and head 2 x 32000 x 16, attention 16x16 + 8x16 + 8x16 + 16x16, MLP 3 x 16 x 32, three norms of 16.
    private const long TinyParameters = (2 * 32000 * 16) + (256 + 128 + 128 + 256) + (3 * 16 * 32) + (3 * 16);

    private readonly string _root = Directory.CreateTempSubdirectory("fusechat-plan-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string MakeModel(string name)
    {
        var folder = Path.Combine(_root, name);
        var config = ModelConfig.Parse("""
            {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "vocab_size": 32000, "hidden_size": 16,
             "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
             "rms_norm_eps": 1e-5, "max_position_embeddings": 128, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2}
            """);
        TorchRuntime.ManualSeed(1);
        using var model = new LlamaModel(DecoderConfig.From(config));
        PretrainedModel.Save(model, config, folder);
        var tokenizer = Path.Combine(RepositoryRoot.Path, "tests", "fixtures", "npm", "node_modules", "@lenml", "tokenizer-llama2", "models");
        Assert.True(Directory.Exists(tokenizer), $"{tokenizer} is missing: run tests/fixtures/fetch-npm.sh");
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(tokenizer, file), Path.Combine(folder, file));
        return folder;
    }

    private RunSpec Spec(string pivotPath)
    {
        MakeModel("pivot");
        MakeModel("source");
        File.WriteAllLines(Path.Combine(_root, "chats.jsonl"), new[] { ("Hi", "Hello there."), ("Capital of France?", "Paris."), ("Two plus two?", "Four.") }
            .Select(c => JsonSerializer.Serialize(new { conversations = new[] { new { from = "human", value = c.Item1 }, new { from = "gpt", value = c.Item2 } } })));
        var validation = RunSpecValidator.Validate($$"""
            name: plan-test
            pivot: {path: {{pivotPath}}, template: mistral}
            sources:
              - {name: source, path: source}
            data: {train: chats.jsonl}
            representation: {top_k: 10}
            training: {epochs: 2, accumulation: 2, dtype: f32}
            output: {folder: out}
            """, _root);
        Assert.True(validation.IsValid, string.Join("; ", validation.Problems));
        return validation.Spec!;
    }

    [Fact]
    public void The_plan_counts_parameters_tokens_and_training_cost_from_the_models_and_the_data()
    {
        var spec = Spec("pivot");

        var plan = PlanCommand.Estimate(spec, effectiveTflops: 100);

        Assert.Equal(3, plan.Conversations);
        var pivot = plan.Models[0];
        Assert.Equal(TinyParameters, pivot.Parameters);
        Assert.Equal("MistralForCausalLM", pivot.Architecture);
        // The trained positions are the tokens the evaluator scores: the same count by another path.
        var scored = EvaluateCommand.Run([Path.Combine(_root, "pivot")], ChatTemplates.Get("mistral"), spec.Data.Train, null, 4, Device.Cpu).Models[0].PerplexityTokens;
        Assert.Equal(scored, pivot.TrainedTokens);
        Assert.True(pivot.Tokens > pivot.TrainedTokens);

        var fusion = Assert.Single(plan.Stages, s => s.Stage == "fusion");
        Assert.StartsWith("source: 4 steps", fusion.What, StringComparison.Ordinal); // ceil(3 / 2) x 2 epochs
        Assert.Equal(6.0 * TinyParameters * pivot.Tokens * 2, fusion.Flops);
        Assert.Equal(TinyParameters * 16, fusion.DeviceBytes); // f32 weights and gradients, two fp32 moments
        Assert.Equal(TinyParameters * 12, fusion.DiskBytes);
        Assert.Equal(2, plan.Stages.Count(s => s.Stage == "representations"));
        Assert.Equal(plan.Stages.Sum(s => s.Flops), plan.TotalFlops);
        Assert.Equal(plan.TotalFlops / 100e12 / 3600, plan.GpuHours, 12);
    }

    [Fact]
    public void A_model_in_the_artifact_store_is_refused_by_name()
    {
        var spec = Spec("artifact:models/pivot");

        var error = Assert.Throws<InvalidOperationException>(() => PlanCommand.Estimate(spec, 300));

        Assert.Contains("artifact:models/pivot", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_parameter_count_is_that_of_the_model_built_from_the_config()
    {
        using var model = new LlamaModel(DecoderConfig.From(ModelConfig.Load(MakeModel("sized"))), DType.BFloat16);
        var parameters = model.ParameterCount();

        Assert.Equal(TinyParameters, parameters);
        Assert.Equal(parameters * (2 + 8 + 4), Fusion.Planning.ResourceEstimate.CheckpointBytes(parameters, DType.BFloat16));
        Assert.Equal(parameters * (2 + 2 + 8 + 4), Fusion.Planning.ResourceEstimate.TrainingStateBytes(parameters, DType.BFloat16));
    }
}
