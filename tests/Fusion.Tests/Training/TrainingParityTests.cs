using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Tests.Models;
using FuseChat.Fusion.Training;
using FuseChat.Torch;
using Xunit.Abstractions;

namespace FuseChat.Fusion.Tests.Training;

/// <summary>
/// Our whole training step against plain PyTorch (tests/fixtures/parity/train_reference.py): the same checkpoint that
/// transformers saved, the same batches and hyper-parameters, and there transformers' forward and autograd, the loss
/// with a dense scattered target, torch's AdamW, transformers' cosine schedule with warmup, clip_grad_norm_ and
/// gradient accumulation. Per-step losses, gradient norms, learning rates and the final weights must agree.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainingParityTests(TransformersParityFixture fixture, ITestOutputHelper output) : IClassFixture<TransformersParityFixture>
{
    private const int Length = 12;

    // 5 micro-batches, 2 per step: 3 steps per epoch (the last with one micro-batch), 6 in all, 2 of them warmup.
    private static readonly FusionTrainerOptions Options = new()
    {
        LearningRate = 1e-3, WarmupRatio = 0.25, WeightDecay = 0.01, Beta1 = 0.9, Beta2 = 0.99, Epsilon = 1e-8, Epochs = 2,
        GradientAccumulationSteps = 2, MaxGradNorm = 1.0, Lambda = 0.7, Temperature = 2.0,
    };

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    [InlineData("mixtral")]
    [InlineData("gemma2")]
    [InlineData("qwen3")]
    [InlineData("phi3")]
    [InlineData("gemma3")]
    [InlineData("qwen3-moe")]
    [InlineData("qwen2-moe")]
    [InlineData("smollm3")]
    [InlineData("olmo2")]
    [InlineData("olmo3")]
    [InlineData("exaone4")]
    [InlineData("glm4")]
    [InlineData("ernie4_5")]
    public void TrainingMatchesPyTorch(string family)
    {
        var python = fixture.Python;
        var rows = Conversations();
        File.WriteAllText(python.HostPath($"{family}-batches.json"), BatchesJson(rows));
        File.WriteAllText(python.HostPath($"{family}-options.json"), JsonSerializer.Serialize(new Dictionary<string, double>
        {
            ["lr"] = Options.LearningRate, ["warmup_ratio"] = Options.WarmupRatio, ["weight_decay"] = Options.WeightDecay,
            ["beta1"] = Options.Beta1, ["beta2"] = Options.Beta2, ["eps"] = Options.Epsilon, ["epochs"] = Options.Epochs,
            ["accumulation"] = Options.GradientAccumulationSteps, ["max_grad_norm"] = Options.MaxGradNorm,
            ["lambda"] = Options.Lambda, ["temperature"] = Options.Temperature,
        }));
        var reference = python.Run(Path.Combine("parity", "train_reference.py"), fixture.RootFolder(family),
                python.RootPath($"{family}-batches.json"), python.RootPath($"{family}-options.json"), python.RootPath($"{family}-trained"))
            .Where(line => line.StartsWith("{\"lr\"", StringComparison.Ordinal)).Select(line => JsonNode.Parse(line)!).ToList();

        using var scope = DisposeScope.Open();
        var (model, _) = PretrainedModel.Load(fixture.Folder(family));
        var (theirs, _) = PretrainedModel.Load(python.HostPath($"{family}-trained"));
        using (model)
        using (theirs)
        {
            var initial = model.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.ToArray<float>());
            var logs = new List<FusionStepLog>();
            using (var source = new InMemoryFusionBatchSource(Batches(rows)))
            using (var trainer = new FusionTrainer(model, source, Options))
            {
                trainer.Log = logs.Add;
                trainer.Train();
            }

            Assert.Equal(6, logs.Count);
            Assert.Equal(logs.Count, reference.Count);
            for (var i = 0; i < logs.Count; i++)
            {
                var (ours, torch) = (logs[i], reference[i]!);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {ours.Step}: lr {ours.LearningRate:E3}/{(double)torch["lr"]!:E3} loss {ours.Loss:F7}/{(double)torch["loss"]!:F7} grad norm {ours.GradNorm:F6}/{(double)torch["grad_norm"]!:F6}"));
                AssertRelative(ours.LearningRate, (double)torch["lr"]!, 1e-9, $"step {ours.Step} learning rate");
                AssertRelative(ours.Loss, (double)torch["loss"]!, 1e-5, $"step {ours.Step} loss");
                AssertRelative(ours.CrossEntropy, (double)torch["ce"]!, 1e-5, $"step {ours.Step} cross entropy");
                AssertRelative(ours.Fusion, (double)torch["fusion"]!, 1e-5, $"step {ours.Step} fusion term");
                AssertRelative(ours.GradNorm, (double)torch["grad_norm"]!, 1e-4, $"step {ours.Step} gradient norm");
            }
            Assert.Contains(logs, l => l.GradNorm > Options.MaxGradNorm);   // clipping was exercised
            Assert.Equal(0, logs[0].LearningRate);                          // HF's warmup starts at 0

            var trained = theirs.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.ToArray<float>());
            double worst = 0, moved = 0;
            foreach (var (name, tensor) in model.NamedParameters())
            {
                var ours = tensor.ToArray<float>();
                var torchWeights = trained[name];
                for (var j = 0; j < ours.Length; j++)
                {
                    worst = Math.Max(worst, Math.Abs(ours[j] - torchWeights[j]));
                    moved = Math.Max(moved, Math.Abs(ours[j] - initial[name][j]));
                }
            }
            output.WriteLine($"{family}: largest weight change {moved:E2}, largest difference to PyTorch {worst:E2}");
            Assert.True(moved > 1e-3, $"training barely moved the weights ({moved})");
            Assert.True(worst <= 3e-5, $"{family}: weights differ from PyTorch's by up to {worst}");
        }
    }

    private static void AssertRelative(double ours, double torch, double tolerance, string what) =>
        Assert.True(Math.Abs(ours - torch) <= tolerance * Math.Max(1e-12, Math.Abs(torch)) || Math.Abs(ours - torch) <= 1e-12,
            $"{what}: ours {ours:R}, PyTorch {torch:R}");

    /// <summary>Ten conversations; one position has only padding slots (no fusion term there).</summary>
    private static List<(long[] Ids, long[] Labels, TopKTargets Targets)> Conversations()
    {
        var rows = Enumerable.Range(0, 10).Select(i => TrainingFixtures.Conversation(seed: 500 + i, Length)).ToList();
        for (var k = 0; k < TrainingFixtures.K; k++)
        {
            rows[3].Targets.Ids[5 * TrainingFixtures.K + k] = 0;
            rows[3].Targets.Logits[5 * TrainingFixtures.K + k] = float.NegativeInfinity;
        }
        return rows;
    }

    private static IEnumerable<FusionBatch> Batches(List<(long[] Ids, long[] Labels, TopKTargets Targets)> rows)
    {
        using var scope = DisposeScope.Open();
        return rows.Chunk(2).Select(pair => new FusionBatch(
            Tensor.From<long>(pair.SelectMany(r => r.Ids).ToArray(), [pair.Length, Length]),
            Tensor.From<long>(pair.SelectMany(r => r.Labels).ToArray(), [pair.Length, Length]),
            Tensor.From<long>(pair.SelectMany(r => r.Targets.Ids).ToArray(), [pair.Length, Length, TrainingFixtures.K]),
            Tensor.From<float>(pair.SelectMany(r => r.Targets.Logits).ToArray(), [pair.Length, Length, TrainingFixtures.K]))).ToList();
    }

    private static string BatchesJson(List<(long[] Ids, long[] Labels, TopKTargets Targets)> rows)
    {
        var k = TrainingFixtures.K;
        var batches = rows.Chunk(2).Select(pair => new
        {
            ids = pair.Select(r => r.Ids),
            labels = pair.Select(r => r.Labels),
            target_ids = pair.Select(r => r.Targets.Ids.Chunk(k)),
            target_logits = pair.Select(r => r.Targets.Logits.Select(v => float.IsNegativeInfinity(v) ? (double?)null : v).Chunk(k)),
        });
        return JsonSerializer.Serialize(batches);
    }
}
