using FuseChat.Fusion.Models;
using FuseChat.Torch;
using Xunit.Abstractions;

namespace FuseChat.Fusion.Tests.Models;

public class CheckpointedForwardTests(ITestOutputHelper output)
{
    public static TheoryData<string> Families => ["llama", "mistral-window", "qwen2-tied", "mixtral", "llama-bf16", "gemma2", "gemma2-bf16", "gemma3", "qwen3", "phi3", "phi3-longrope", "qwen-moe", "smollm3", "olmo2", "olmo2-bf16", "glm4", "ernie-bf16"];

    private static (DecoderConfig Config, DType DType) Family(string name) => name switch
    {
        "llama" => (TinyModels.Llama(layers: 3), DType.Float32),
        // Length 24 > window 8: the sliding-window mask is built and must reach the recomputed layers.
        "mistral-window" => (TinyModels.Llama(layers: 3) with { SlidingWindow = 8 }, DType.Float32),
        // Tied: the embedding matrix gets gradient from the head and from the lookup, in two backward calls.
        "qwen2-tied" => (TinyModels.Llama(layers: 3) with { TieEmbeddings = true, AttentionBias = true, SlidingWindow = 8, FirstSlidingLayer = 1 }, DType.Float32),
        "mixtral" => (TinyModels.Llama(layers: 2) with { Experts = 4, ExpertsPerToken = 2 }, DType.Float32),
        "llama-bf16" => (TinyModels.Llama(layers: 3), DType.BFloat16),
        // Soft-capped eager attention with the window in layers 0 and 2; scaled embeddings get gradient through the scale.
        "gemma2" => (TinyModels.Gemma2(layers: 3), DType.Float32),
        "gemma2-bf16" => (TinyModels.Gemma2(layers: 3), DType.BFloat16),
        // The windowed layers take the second rotary table, which the recomputed layers must get too.
        "gemma3" => (TinyModels.Gemma3(layers: 3), DType.Float32),
        "qwen3" => (TinyModels.Qwen3(layers: 3), DType.Float32),
        "phi3" => (TinyModels.Phi3(layers: 3), DType.Float32),
        // Length 24 > the original context of 8: the long factors.
        "phi3-longrope" => (TinyModels.Phi3LongRope(layers: 3), DType.Float32),
        // Qwen2-MoE's layout with a dense first layer: routed experts (not renormalised) and the gated shared expert.
        "qwen-moe" => (TinyModels.Llama(layers: 3) with
        {
            Experts = 4, ExpertsPerToken = 2, ExpertIntermediateSize = 24, SharedExpertIntermediateSize = 40, NormalizeTopK = false,
            SparseLayers = [false, true, true], ExpertLayout = ExpertLayout.Qwen,
        }, DType.Float32),
        // A layer without rotary positions between two with them.
        "smollm3" => (TinyModels.Llama(layers: 3) with { RotaryLayers = [true, false, true] }, DType.Float32),
        "olmo2" => (TinyModels.Llama(layers: 3) with { OutputNormsOnly = true }, DType.Float32),
        "olmo2-bf16" => (TinyModels.Llama(layers: 3) with { OutputNormsOnly = true }, DType.BFloat16),
        "glm4" => (TinyModels.Llama(layers: 3) with { GlmNorms = true, FusedGateUp = true, InterleavedRotary = true, RotaryDim = 4, AttentionBias = true }, DType.Float32),
        // bf16 weights with the rotation in fp32 from fp32 tables.
        "ernie-bf16" => (TinyModels.Llama(layers: 3) with { InterleavedRotary = true, RotaryInFloat32 = true, MlpBias = true }, DType.BFloat16),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static Tensor NextTokenLoss(Tensor logits, Tensor ids)
    {
        var length = ids.Size(1);
        var vocab = logits.Size(2);
        var predicted = logits.Narrow(1, 0, length - 1).Reshape(-1, vocab).To(DType.Float32);
        return Functional.CrossEntropy(predicted, ids.Narrow(1, 1, length - 1).Reshape(-1));
    }

    private static Tensor Batch(int vocab) =>
        Tensor.From<long>([.. TinyModels.RandomIds(24, vocab, 7), .. TinyModels.RandomIds(24, vocab, 8)], [2, 24]);

    [Theory]
    [MemberData(nameof(Families))]
    public void GradientsEqualThoseOfAPlainBackwardPass(string family)
    {
        var (config, dtype) = Family(family);
        TorchRuntime.ManualSeed(11);
        using var plain = new LlamaModel(config, dtype);
        using var checkpointed = new LlamaModel(config, dtype);
        TinyModels.CopyParameters(plain, checkpointed);
        using var scope = DisposeScope.Open();
        var ids = Batch(config.VocabSize);

        var plainLoss = NextTokenLoss(plain.Forward(ids), ids);
        plainLoss.Backward();
        double checkpointedLoss;
        using (var pass = checkpointed.ForwardCheckpointed(ids))
        {
            var loss = NextTokenLoss(pass.Logits, ids);
            checkpointedLoss = loss.ToDouble();
            pass.Backward(loss);
        }

        Assert.Equal(plainLoss.ToDouble(), checkpointedLoss);
        var identical = 0;
        var tolerance = dtype == DType.Float32 ? 1e-6 : 1e-2;
        foreach (var ((name, p), (_, c)) in plain.NamedParameters().Zip(checkpointed.NamedParameters()))
        {
            var expected = p.Grad ?? throw new Xunit.Sdk.XunitException($"{name}: no gradient in the plain pass");
            var actual = c.Grad ?? throw new Xunit.Sdk.XunitException($"{name}: no gradient in the checkpointed pass");
            Assert.Equal(expected.DType, actual.DType);
            var difference = (expected.To(DType.Float32) - actual.To(DType.Float32)).Abs().Max().ToDouble();
            Assert.True(difference <= tolerance, $"{name}: gradients differ by {difference}");
            var scale = expected.To(DType.Float32).Abs().Max().ToDouble();
            Assert.True(scale > 0, $"{name}: zero gradient, the comparison proves nothing");
            if (difference == 0) identical++;
        }
        var count = plain.NamedParameters().Count();
        output.WriteLine($"{family}: {identical} of {count} parameter gradients bit-identical");
        // On the CPU the recomputed layers repeat the same kernels on the same values, so the gradients are not just
        // close but equal: switching checkpointing on or off does not change a run's trajectory.
        Assert.Equal(count, identical);
    }

    [Fact]
    public void AccumulatesIntoExistingGradientsLikeBackward()
    {
        var config = TinyModels.Llama(layers: 2);
        TorchRuntime.ManualSeed(12);
        using var plain = new LlamaModel(config);
        using var checkpointed = new LlamaModel(config);
        TinyModels.CopyParameters(plain, checkpointed);
        using var scope = DisposeScope.Open();
        var first = Batch(config.VocabSize);
        var second = Tensor.From<long>(TinyModels.RandomIds(30, config.VocabSize, 9), [1, 30]);

        foreach (var ids in new[] { first, second })
        {
            (NextTokenLoss(plain.Forward(ids), ids) * 0.5).Backward();
            using var pass = checkpointed.ForwardCheckpointed(ids);
            pass.Backward(NextTokenLoss(pass.Logits, ids) * 0.5);
        }

        foreach (var ((name, p), (_, c)) in plain.NamedParameters().Zip(checkpointed.NamedParameters()))
        {
            var difference = (p.Grad! - c.Grad!).Abs().Max().ToDouble();
            Assert.True(difference <= 1e-6, $"{name}: accumulated gradients differ by {difference}");
        }
    }

    [Fact]
    public void APassIsBackPropagatedOnceAndFreesWhatItKept()
    {
        var config = TinyModels.Llama(layers: 2);
        TorchRuntime.ManualSeed(13);
        using var model = new LlamaModel(config);
        using var scope = DisposeScope.Open();
        var ids = Batch(config.VocabSize);
        var before = scope.Count;
        var pass = model.ForwardCheckpointed(ids);
        var loss = NextTokenLoss(pass.Logits, ids);
        pass.Backward(loss);

        var error = Assert.Throws<InvalidOperationException>(() => pass.Backward(loss));
        Assert.Contains("already been back-propagated", error.Message);
        // The kept layer inputs were never in the caller's scope, and are freed: only the logits, the loss and
        // its intermediates were added there.
        Assert.True(scope.Count - before <= 8, $"{scope.Count - before} tensors were left in the caller's scope");
        pass.Dispose();
    }

    [Fact]
    public void ALossThatIgnoresTheLogitsIsRefusedByName()
    {
        var config = TinyModels.Llama(layers: 1);
        TorchRuntime.ManualSeed(14);
        using var model = new LlamaModel(config);
        using var scope = DisposeScope.Open();
        var ids = Batch(config.VocabSize);
        using var pass = model.ForwardCheckpointed(ids);
        var unrelated = Tensor.Zeros([1]).RequiresGradient().Sum();

        var error = Assert.Throws<InvalidOperationException>(() => pass.Backward(unrelated));
        Assert.Contains("does not depend on the logits", error.Message);
    }
}
