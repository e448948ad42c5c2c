using FuseChat.Fusion.Merging;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Merging;

/// <summary>
/// The merges work piece by piece and select top-k by a threshold; these tests hold them to whole-tensor
/// references (the earlier implementations, written with topk and tensor-sized temporaries) on tensors that
/// span several pieces and have many ties.
/// </summary>
public class PieceWiseMergeTests
{
    // 2.3 pieces, so the last piece is partial.
    private static readonly long[] Shape = [600, (MergeTensors.ChunkElements * 23 / 10 + 599) / 600];

    /// <summary>The earlier whole-tensor top-k mask: topk threshold, ties to the lowest flat indices.</summary>
    private static Tensor ReferenceTopKMask(Tensor scores, long k)
    {
        using var scope = DisposeScope.Open();
        var n = scores.NumberOfElements;
        if (k <= 0) return Tensor.Zeros(scores.Shape, DType.Bool).MoveToOuterScope();
        if (k >= n) return Tensor.Ones(scores.Shape, DType.Bool).MoveToOuterScope();
        var flat = scores.Flatten();
        var (values, _) = flat.TopK(k, 0, largest: true, sorted: true);
        var threshold = values.Select(0, k - 1).ToDouble();
        var above = flat.Gt(threshold);
        var taken = above.Sum().ToInt64();
        var atThreshold = flat.Eq(threshold);
        var rank = atThreshold.To(DType.Int64).CumSum(0);
        var firstTies = atThreshold.LogicalAnd(rank.Le(k - taken));
        return above.LogicalOr(firstTies).Reshape(scores.Shape).MoveToOuterScope();
    }

    /// <summary>Small integers: most values are tied, so the tie rule decides most of the mask.</summary>
    private static Tensor TiedScores(long[] shape) => (Tensor.Rand(shape) * 20).Floor() - 10;

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(1000L)]
    [InlineData(123_457L)]
    [InlineData(600_000L)]
    [InlineData(10_000_000L)]
    public void ThresholdMaskEqualsTheTopKMask(long k)
    {
        using var scope = DisposeScope.Open();
        TorchRuntime.ManualSeed(1);
        var scores = TiedScores(Shape);
        var expected = ReferenceTopKMask(scores, k).To(DType.Float32).ToArray<float>();
        var mask = scores.Clone();
        MergeTensors.TopKMaskInPlace(mask, k);
        Assert.Equal(expected, mask.ToArray<float>());
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(77L)]
    [InlineData(300_001L)]
    public void MagnitudeTrimEqualsTheTopKOfAbsoluteValues(long k)
    {
        using var scope = DisposeScope.Open();
        TorchRuntime.ManualSeed(2);
        var values = TiedScores(Shape) * 0.25;
        var expected = (values * ReferenceTopKMask(values.Abs(), k).To(DType.Float32)).ToArray<float>();
        var trimmed = values.Clone();
        MergeTensors.KeepTopKMagnitudesInPlace(trimmed, k);
        // -0 and +0 count as equal: a dropped negative entry was -0 in the multiplied reference.
        Assert.Equal(expected.Select(v => v == 0 ? 0f : v), trimmed.ToArray<float>().Select(v => v == 0 ? 0f : v));
    }

    /// <summary>The earlier SCE, whole tensors at a time.</summary>
    private static Tensor ReferenceSce(Tensor pivot, Tensor[] models, double tau, SceVariant variant)
    {
        using var scope = DisposeScope.Open();
        var deltas = models.Select(m => m - pivot).ToList();
        Tensor? mask = null;
        if (tau < 1)
        {
            var mean = deltas.Aggregate((a, b) => a + b) * (1.0 / deltas.Count);
            var variance = mean.ZerosLike();
            foreach (var d in deltas) variance.AddInPlace((d - mean).Square());
            variance.MulInPlace(1.0 / deltas.Count);
            var k = MergeTensors.FloorFraction(tau, variance.Ne(0).Sum().ToInt64());
            mask = ReferenceTopKMask(variance, k).To(DType.Float32);
        }
        var squares = deltas.Select(d => (mask is null ? d : d * mask).Square().Mean().ToDouble()).ToArray();
        if (mask is not null && variant == SceVariant.Upstream) deltas = deltas.Select(d => d * mask).ToList();
        var weights = MergeTensors.NormalisedOrUniform(squares);
        var total = deltas.Aggregate((a, b) => a + b);
        var majority = total.Ge(0).To(DType.Float32) * 2.0 - 1.0;
        var numerator = pivot.ZerosLike();
        var divisor = pivot.ZerosLike();
        for (var i = 0; i < deltas.Count; i++)
        {
            var erase = deltas[i].Sign().Eq(majority).To(DType.Float32);
            numerator.AddInPlace(deltas[i] * erase, weights[i]);
            divisor.AddInPlace(erase, weights[i]);
        }
        return (pivot + numerator / MergeTensors.ZeroToOne(divisor)).MoveToOuterScope();
    }

    [Theory]
    [InlineData(0.1, SceVariant.Paper)]
    [InlineData(0.1, SceVariant.Upstream)]
    [InlineData(1.0, SceVariant.Paper)]
    public void SceEqualsTheWholeTensorComputation(double tau, SceVariant variant)
    {
        using var scope = DisposeScope.Open();
        TorchRuntime.ManualSeed(3);
        var pivot = Tensor.Randn(Shape);
        // Quantised deltas: zero variance and tied variances at many positions, like bf16 fine-tuning updates.
        var models = Enumerable.Range(0, 3).Select(_ => pivot + TiedScores(Shape) * 1e-3).ToArray();
        var expected = ReferenceSce(pivot, models, tau, variant).ToArray<float>();
        var merged = new SceMerge(variant).Merge("w", pivot, models, [new(), new(), new()], new MergeParameters { SelectTopK = tau });
        var actual = merged.ToArray<float>();
        // The per-model mean squares are now summed per piece in double rather than by one float reduction,
        // so the weights (and through them the values) may differ in the last bits.
        for (var i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * (1 + Math.Abs(expected[i])), $"element {i}: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void MergeLeavesItsInputsUntouchedEvenWhenTheyAreFloat32()
    {
        using var scope = DisposeScope.Open();
        TorchRuntime.ManualSeed(4);
        var pivot = Tensor.Randn([3, 5]);
        var a = pivot + Tensor.Randn([3, 5]);
        var b = pivot + Tensor.Randn([3, 5]);
        var before = new[] { pivot, a, b }.Select(t => t.ToArray<float>()).ToList();
        foreach (var name in MergeMethods.Names)
        {
            MergeMethods.Create(name).Merge("w", pivot, [a, b], [new(0.5, 0.5), new(0.5, 0.5)], new MergeParameters { SelectTopK = 0.5 });
            Assert.Equal(before, new[] { pivot, a, b }.Select(t => t.ToArray<float>()).ToList());
        }
    }
}
