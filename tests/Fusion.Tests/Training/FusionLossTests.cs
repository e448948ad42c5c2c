using FuseChat.Fusion.Training;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Training;

public class FusionLossTests
{
    private const int B = 2, L = 4, V = 7, K = 3;

    // Random float64 data on tiny shapes: padding slots (id 0, -inf), one position without any target,
    // and untrained positions.
    private static (double[] Logits, long[] Labels, long[] TargetIds, double[] TargetLogits) Data(int seed)
    {
        var random = new Random(seed);
        var logits = Enumerable.Range(0, B * L * V).Select(_ => random.NextDouble() * 6 - 3).ToArray();
        var labels = Enumerable.Range(0, B * L).Select(_ => (long)random.Next(V)).ToArray();
        labels[3] = -100;
        labels[4] = -100;
        var ids = new long[B * L * K];
        var targetLogits = new double[B * L * K];
        for (var p = 0; p < B * L; p++)
        {
            var distinct = Enumerable.Range(0, V).OrderBy(_ => random.Next()).Take(K).ToArray();
            for (var k = 0; k < K; k++)
            {
                ids[p * K + k] = distinct[k];
                targetLogits[p * K + k] = random.NextDouble() * 8 - 4;
            }
        }
        // Padding slot: id 0, logit -inf.
        ids[1 * K + 2] = 0;
        targetLogits[1 * K + 2] = double.NegativeInfinity;
        // A trained position with no target at all.
        for (var k = 0; k < K; k++)
        {
            ids[6 * K + k] = 0;
            targetLogits[6 * K + k] = double.NegativeInfinity;
        }
        return (logits, labels, ids, targetLogits);
    }

    // The formula of METHOD.md with a dense [B, L, V] target, in plain double arithmetic.
    private static (double Total, double Ce, double Fusion) Dense(double[] logits, long[] labels, long[] ids, double[] targetLogits, double lambda, double temperature)
    {
        double ceSum = 0, fusionSum = 0;
        int trained = 0, fused = 0;
        for (var p = 0; p < B * L; p++)
        {
            var row = logits.AsSpan(p * V, V);
            var max = row.ToArray().Max();
            var lse = max + Math.Log(row.ToArray().Sum(x => Math.Exp(x - max)));
            var logSoftmax = row.ToArray().Select(x => x - lse).ToArray();
            if (labels[p] == -100) continue;
            trained++;
            ceSum -= logSoftmax[labels[p]];
            var t = targetLogits.AsSpan(p * K, K).ToArray();
            if (t.All(double.IsNegativeInfinity)) continue;
            var tMax = t.Max() / temperature;
            var weights = t.Select(x => Math.Exp(x / temperature - tMax)).ToArray();
            var z = weights.Sum();
            var dense = new double[V];
            for (var k = 0; k < K; k++) dense[ids[p * K + k]] += weights[k] / z;
            fused++;
            for (var v = 0; v < V; v++) fusionSum -= dense[v] * logSoftmax[v];
        }
        var ce = ceSum / trained;
        var fusion = fusionSum / fused;
        return (lambda * ce + (1 - lambda) * fusion, ce, fusion);
    }

    private static (Tensor Logits, Tensor Labels, Tensor Ids, Tensor TargetLogits) Tensors(double[] logits, long[] labels, long[] ids, double[] targetLogits) =>
        (Tensor.From<double>(logits, [B, L, V]), Tensor.From<long>(labels, [B, L]), Tensor.From<long>(ids, [B, L, K]), Tensor.From<double>(targetLogits, [B, L, K]));

    [Theory]
    [InlineData(0.9, 1.0)]
    [InlineData(0.3, 2.5)]
    [InlineData(0.0, 0.5)]
    public void MatchesTheDenseReference(double lambda, double temperature)
    {
        using var scope = DisposeScope.Open();
        var (logits, labels, ids, targetLogits) = Data(1);
        var expected = Dense(logits, labels, ids, targetLogits, lambda, temperature);
        var (z, y, ti, tl) = Tensors(logits, labels, ids, targetLogits);
        var result = new FusionLoss(lambda, temperature).Compute(z, y, ti, tl);
        Assert.Equal(expected.Ce, result.CrossEntropy.ToDouble(), 1e-12);
        Assert.Equal(expected.Fusion, result.Fusion.ToDouble(), 1e-12);
        Assert.Equal(expected.Total, result.Total.ToDouble(), 1e-12);
        Assert.Equal(6, result.TrainedPositions.ToDouble());
        Assert.Equal(5, result.FusionPositions.ToDouble());
    }

    /// <summary>
    /// The trainer's chunked loss: the head applied to a few trained positions at a time and back-propagated chunk by
    /// chunk. Its loss, parts and counts, and the gradients of the hidden states and of the head's weight, equal the whole
    /// loss's for every chunk size; the untrained positions (3 and 4) get no gradient.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(1000)]
    public void ChunkedBackwardEqualsTheWholeLoss(int chunkRows)
    {
        const int H = 5;
        using var scope = DisposeScope.Open();
        var (_, labels, ids, targetLogits) = Data(3);
        var random = new Random(4);
        var hiddenValues = Enumerable.Range(0, B * L * H).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var weightValues = Enumerable.Range(0, V * H).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var (_, y, ti, tl) = Tensors(new double[B * L * V], labels, ids, targetLogits);
        var loss = new FusionLoss(0.7, 1.5);
        const double scale = 0.25;

        var hidden = Tensor.From<double>(hiddenValues, [B, L, H]).RequiresGradient();
        var weight = Tensor.From<double>(weightValues, [V, H]).RequiresGradient();
        var whole = loss.Compute(Functional.Linear(hidden, weight), y, ti, tl);
        (whole.Total * scale).Backward();

        var chunkedHidden = Tensor.From<double>(hiddenValues, [B, L, H]).RequiresGradient();
        var chunkedWeight = Tensor.From<double>(weightValues, [V, H]).RequiresGradient();
        var chunked = loss.BackwardInChunks(h => Functional.Linear(h, chunkedWeight), chunkedHidden, y, ti, tl, chunkRows, scale);

        Assert.Equal(whole.Total.ToDouble(), chunked.Total.ToDouble(), 1e-12);
        Assert.Equal(whole.CrossEntropy.ToDouble(), chunked.CrossEntropy.ToDouble(), 1e-12);
        Assert.Equal(whole.Fusion.ToDouble(), chunked.Fusion.ToDouble(), 1e-12);
        Assert.Equal((6.0, 5.0), (chunked.TrainedPositions.ToDouble(), chunked.FusionPositions.ToDouble()));
        var expectedHidden = hidden.Grad!.ToArray<double>();
        var actualHidden = chunkedHidden.Grad!.ToArray<double>();
        for (var i = 0; i < expectedHidden.Length; i++) Assert.Equal(expectedHidden[i], actualHidden[i], 1e-12);
        var expectedWeight = weight.Grad!.ToArray<double>();
        var actualWeight = chunkedWeight.Grad!.ToArray<double>();
        for (var i = 0; i < expectedWeight.Length; i++) Assert.Equal(expectedWeight[i], actualWeight[i], 1e-12);
        Assert.All(actualHidden.AsSpan(3 * H, 2 * H).ToArray(), g => Assert.Equal(0, g));
    }

    [Fact]
    public void ChunkedBackwardStopsAtANonFiniteChunk()
    {
        using var scope = DisposeScope.Open();
        var (_, labels, ids, targetLogits) = Data(3);
        targetLogits[7 * K] = double.PositiveInfinity;   // position 7, trained: the third chunk of two positions is NaN
        var (_, y, ti, tl) = Tensors(new double[B * L * V], labels, ids, targetLogits);
        var hidden = Tensor.Zeros([B, L, 5], DType.Float64).RequiresGradient();
        var weight = Tensor.Ones([V, 5], DType.Float64).RequiresGradient();
        var result = new FusionLoss().BackwardInChunks(h => Functional.Linear(h, weight), hidden, y, ti, tl, chunkRows: 2);
        Assert.True(double.IsNaN(result.Total.ToDouble()));
        // The two finite chunks were back-propagated, the NaN one was not: no NaN reached a gradient.
        Assert.All(weight.Grad!.ToArray<double>(), g => Assert.True(double.IsFinite(g)));
    }

    [Fact]
    public void GradientMatchesFiniteDifferences()
    {
        using var scope = DisposeScope.Open();
        var (logits, labels, ids, targetLogits) = Data(2);
        var loss = new FusionLoss(0.6, 1.3);
        var (z, y, ti, tl) = Tensors(logits, labels, ids, targetLogits);
        z.RequiresGrad = true;
        loss.Compute(z, y, ti, tl).Total.Backward();
        var gradient = z.Grad!.ToArray<double>();
        const double h = 1e-6;
        for (var i = 0; i < logits.Length; i++)
        {
            var plus = (double[])logits.Clone();
            var minus = (double[])logits.Clone();
            plus[i] += h;
            minus[i] -= h;
            var fPlus = Dense(plus, labels, ids, targetLogits, 0.6, 1.3).Total;
            var fMinus = Dense(minus, labels, ids, targetLogits, 0.6, 1.3).Total;
            Assert.Equal((fPlus - fMinus) / (2 * h), gradient[i], 1e-8);
        }
        // Untrained positions (3 and 4) receive no gradient.
        Assert.All(gradient.AsSpan(3 * V, 2 * V).ToArray(), g => Assert.Equal(0, g));
    }

    [Fact]
    public void WithoutAnyTargetTheFusionTermIsZeroNotNaN()
    {
        using var scope = DisposeScope.Open();
        var (logits, labels, ids, _) = Data(3);
        var none = Enumerable.Repeat(double.NegativeInfinity, ids.Length).ToArray();
        var (z, y, ti, tl) = Tensors(logits, labels, ids, none);
        var result = new FusionLoss(0.9).Compute(z, y, ti, tl);
        Assert.Equal(0, result.Fusion.ToDouble());
        Assert.Equal(0, result.FusionPositions.ToDouble());
        Assert.Equal(0.9 * result.CrossEntropy.ToDouble(), result.Total.ToDouble(), 1e-12);
    }

    [Fact]
    public void InfiniteTargetLogitMakesTheLossNaN()
    {
        using var scope = DisposeScope.Open();
        var (logits, labels, ids, targetLogits) = Data(4);
        targetLogits[0] = double.PositiveInfinity;
        var (z, y, ti, tl) = Tensors(logits, labels, ids, targetLogits);
        Assert.True(double.IsNaN(new FusionLoss().Compute(z, y, ti, tl).Total.ToDouble()));
    }

    [Fact]
    public void Bf16LogitsAreComputedInFloat32()
    {
        using var scope = DisposeScope.Open();
        var (logits, labels, ids, targetLogits) = Data(5);
        var (z, y, ti, tl) = Tensors(logits, labels, ids, targetLogits);
        var result = new FusionLoss().Compute(z.To(DType.BFloat16), y, ti, tl.To(DType.Float32));
        Assert.Equal(DType.Float32, result.Total.DType);
        Assert.Equal(new FusionLoss().Compute(z, y, ti, tl).Total.ToDouble(), result.Total.ToDouble(), 0.05);
    }

    [Fact]
    public void RejectsMismatchedShapes()
    {
        using var scope = DisposeScope.Open();
        var (logits, labels, ids, targetLogits) = Data(6);
        var (z, y, ti, _) = Tensors(logits, labels, ids, targetLogits);
        Assert.Throws<ArgumentException>(() => new FusionLoss().Compute(z, y, ti, Tensor.Zeros([B, L, K + 1], DType.Float64)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FusionLoss(1.5));
    }
}
