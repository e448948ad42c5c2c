using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Models;

/// <summary>Tiny configurations of each family, and helpers to copy weights between models.</summary>
internal static class TinyModels
{
    public static DecoderConfig Llama(int layers = 2) => new()
    {
        VocabSize = 61, HiddenSize = 32, IntermediateSize = 48, Layers = layers, Heads = 4, KeyValueHeads = 2, RmsNormEps = 1e-5,
    };

    /// <summary>Gemma2's features at test scale: sandwich norms, GeGLU, a score scale, soft caps that bend, windows of 8 in even layers.</summary>
    public static DecoderConfig Gemma2(int layers = 3) => Llama(layers) with
    {
        HeadDim = 16, TieEmbeddings = true, GemmaNorms = true, Activation = MlpActivation.GeluTanh, AttentionScale = 1 / Math.Sqrt(12),
        AttentionSoftcap = 0.5, FinalSoftcap = 2, SlidingWindow = 8, SlidingLayers = [.. Enumerable.Range(0, layers).Select(i => i % 2 == 0)],
    };

    /// <summary>Gemma3's features at test scale: Gemma2's without the caps, query/key norms, the windowed layers rotating by their own base.</summary>
    public static DecoderConfig Gemma3(int layers = 3) => Gemma2(layers) with
    {
        AttentionSoftcap = null, FinalSoftcap = null, QueryKeyNorm = true, LocalRopeTheta = 100, RopeScaling = new RopeScaling("linear", 2),
    };

    /// <summary>Qwen3's features at test scale: per-head query/key norms and a head width that is not hidden / heads.</summary>
    public static DecoderConfig Qwen3(int layers = 3) => Llama(layers) with { HeadDim = 16, QueryKeyNorm = true, TieEmbeddings = true };

    /// <summary>Phi3's features at test scale: fused q/k/v and gate/up projections, rotary positions on half of each head, a window of 8.</summary>
    public static DecoderConfig Phi3(int layers = 3) => Llama(layers) with { FusedProjections = true, RotaryDim = 4, SlidingWindow = 8 };

    /// <summary>
    /// Phi-3.5's LongRoPE at test scale: rotary width 6 of 8, one short and one long factor per frequency, an original
    /// context of 8 (the long table from position 8 on) and cos and sin scaled by sqrt(1 + ln 4 / ln 8).
    /// </summary>
    public static DecoderConfig Phi3LongRope(int layers = 2) => Llama(layers) with
    {
        FusedProjections = true, RotaryDim = 6,
        RopeScaling = new RopeScaling("longrope", 4) { ShortFactor = [1.0, 1.4, 2.0], LongFactor = [3.0, 12.0, 40.0], OriginalMaxPositionEmbeddings = 8 },
    };

    public static Tensor Ids(long[] ids) => Tensor.From<long>(ids, [1, ids.Length]);

    public static long[] RandomIds(int count, int vocab, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (long)random.Next(vocab)).ToArray();
    }

    public static void CopyParameters(LlamaModel from, LlamaModel to, Func<string, Tensor, Tensor>? transform = null)
    {
        var source = from.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor);
        using var noGrad = NoGradScope.Enter();
        using var scope = DisposeScope.Open();
        foreach (var (name, tensor) in to.NamedParameters())
            tensor.CopyFrom(transform is null ? source[name] : transform(name, source[name]));
    }

    public static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        using var diff = (expected - actual).Abs().Max();
        var max = diff.ToDouble();
        Assert.True(max <= tolerance, $"max difference {max} exceeds {tolerance}");
    }
}
