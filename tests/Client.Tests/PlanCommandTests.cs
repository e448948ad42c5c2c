using System.Text.Json;
using FuseChat.Client.Commands;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Data;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Planning;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tokenization;
using FuseChat.Grains.Planning;
using FuseChat.Grains.Runs;
using FuseChat.Torch;

namespace FuseChat.Client.Tests;

public sealed class PlanCommandTests : IDisposable
{
    private const long TinyParameters = TinyMistralFolder.Parameters;

    private readonly string _root = Directory.CreateTempSubdirectory("fusechat-plan-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string MakeModel(string name) => TinyMistralFolder.Create(Path.Combine(_root, name), seed: 1);

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

        var plan = RunCostEstimator.Estimate(spec, effectiveTflops: 100);

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

        // One micro-batch is one conversation: the longest sets a step's activations, here without checkpointing.
        var tokenizer = HfTokenizer.Load(Path.Combine(_root, "pivot"));
        var longest = ChatDataset.Read(spec.Data.Train).Max(r => ChatEncoder.Encode(r.Conversation, ChatTemplates.Get("mistral"), tokenizer).Ids.Length);
        Assert.Equal(longest, plan.LongestConversation);
        var config = ModelConfig.Load(Path.Combine(_root, "pivot"));
        Assert.False(plan.GradientCheckpointing);
        Assert.Equal(ResourceEstimate.ActivationBytes(config, longest, DType.Float32, checkpointing: false), fusion.ActivationBytes);
        Assert.Equal(ResourceEstimate.ActivationBytes(config, longest, DType.Float32, checkpointing: true), plan.AlternativeActivationBytes);
        Assert.NotEqual(fusion.ActivationBytes, plan.AlternativeActivationBytes);
    }

    [Fact]
    public void With_the_optimizer_offloaded_the_device_holds_weights_and_gradients_and_the_host_the_rest()
    {
        var spec = Spec("pivot");
        var offloaded = spec with { Training = spec.Training with { OptimizerOffload = true } };

        var plan = RunCostEstimator.Estimate(offloaded, effectiveTflops: 100);

        var fusion = Assert.Single(plan.Stages, s => s.Stage == "fusion");
        Assert.Equal(TinyParameters * 8, fusion.DeviceBytes); // f32 weights and gradients
        Assert.Equal(TinyParameters * 12, plan.OffloadedHostBytes);
        Assert.Null(RunCostEstimator.Estimate(spec, effectiveTflops: 100).OffloadedHostBytes);
    }

    [Fact]
    public void A_model_in_the_artifact_store_is_refused_by_name()
    {
        var spec = Spec("artifact:models/pivot");

        var error = Assert.Throws<InvalidOperationException>(() => RunCostEstimator.Estimate(spec, 300));

        Assert.Contains("artifact:models/pivot", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_parameter_count_is_that_of_the_model_built_from_the_config()
    {
        using var model = new LlamaModel(DecoderConfig.From(ModelConfig.Load(MakeModel("sized"))), DType.BFloat16);
        var parameters = model.ParameterCount();

        Assert.Equal(TinyParameters, parameters);
        Assert.Equal(parameters * (2 + 8 + 4), ResourceEstimate.CheckpointBytes(parameters, DType.BFloat16));
        Assert.Equal(parameters * (2 + 2 + 8 + 4), ResourceEstimate.TrainingStateBytes(parameters, DType.BFloat16));
    }
}
