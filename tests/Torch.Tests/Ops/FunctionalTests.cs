using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Ops;

public class FunctionalTests
{
    [Fact]
    public void SoftmaxAndLogSoftmax()
    {
        using var scope = DisposeScope.Open();
        // e^0 : e^ln3 = 1 : 3
        var x = Make.F64([0, Math.Log(3), Math.Log(2), Math.Log(2)], 2, 2);
        TensorAssert.Close([0.25, 0.75, 0.5, 0.5], Functional.Softmax(x, -1), 1e-15, shape: [2, 2]);
        TensorAssert.Close([Math.Log(0.25), Math.Log(0.75), Math.Log(0.5), Math.Log(0.5)], Functional.LogSoftmax(x, 1), 1e-15);
        // along dim 0: column 0 is [0, ln2] -> [1/3, 2/3]; column 1 is [ln3, ln2] -> [3/5, 2/5]
        TensorAssert.Close([1.0 / 3, 0.6, 2.0 / 3, 0.4], Functional.Softmax(x, 0), 1e-15);
        // stable: huge logits do not overflow
        TensorAssert.Close([0.5, 0.5], Functional.Softmax(Make.F32([1000, 1000]), 0), 1e-7);
        TensorAssert.Close([-1000, 0], Functional.LogSoftmax(Make.F64([0, 1000]), 0), 1e-12);
    }

    [Fact]
    public void Embedding()
    {
        using var scope = DisposeScope.Open();
        var w = Make.F32([0, 1, 2, 3, 4, 5], 3, 2);
        TensorAssert.Equal(new[] { 4f, 5f, 0f, 1f, 2f, 3f, 2f, 3f }, Functional.Embedding(w, Make.I64([2, 0, 1, 1], 2, 2)), [2, 2, 2]);
        TensorAssert.Equal(new[] { 2f, 3f }, Functional.Embedding(w, Make.I32([1])), [1, 2]);
    }

    [Fact]
    public void CrossEntropyIgnoresTargetsAndAveragesOverTheRest()
    {
        using var scope = DisposeScope.Open();
        // row 0: softmax [1/4, 3/4], target 1 -> -ln(3/4)
        // row 1: softmax [1/2, 1/2], target 0 -> ln 2
        // row 2: target -100 (ignored), its logits would cost 6 + ln(1 + e^-6)
        var logits = Make.F64([0, Math.Log(3), 0, 0, -1, 5], 3, 2);
        var targets = Make.I64([1, 0, -100]);
        var l0 = -Math.Log(0.75);
        var l1 = Math.Log(2);
        TensorAssert.Close((l0 + l1) / 2, Functional.CrossEntropy(logits, targets), 1e-14);
        TensorAssert.Close(l0 + l1, Functional.CrossEntropy(logits, targets, reduction: Reduction.Sum), 1e-14);
        TensorAssert.Close([l0, l1, 0], Functional.CrossEntropy(logits, targets, reduction: Reduction.None), 1e-14);

        // a custom ignore index: only row 1 counts
        var other = Make.I64([1, 0, 1]);
        TensorAssert.Close(l1, Functional.CrossEntropy(logits, other, ignoreIndex: 1), 1e-14);
        // nothing ignored: row 2 with target 1 costs -log_softmax = ln(1 + e^-6)
        var l2 = Math.Log(1 + Math.Exp(-6));
        TensorAssert.Close((l0 + l1 + l2) / 3, Functional.CrossEntropy(logits, other), 1e-14);
    }

    [Fact]
    public void CrossEntropyWithLabelSmoothing()
    {
        using var scope = DisposeScope.Open();
        // smoothing ε over C classes: (1-ε)·nll + ε·mean_c(-log p_c)
        var logits = Make.F64([0, Math.Log(3)], 1, 2);
        const double eps = 0.2;
        var expected = (1 - eps) * -Math.Log(0.75) + eps * (-Math.Log(0.25) - Math.Log(0.75)) / 2;
        TensorAssert.Close(expected, Functional.CrossEntropy(logits, Make.I64([1]), labelSmoothing: eps), 1e-14);
    }

    [Fact]
    public void RmsNorm()
    {
        using var scope = DisposeScope.Open();
        // x = [3, 4]: mean(x²) = 12.5, scale 1/√12.5
        var s = 1 / Math.Sqrt(12.5);
        TensorAssert.Close([3 * s, 4 * s * 2], Functional.RmsNorm(Make.F64([3, 4]), Make.F64([1, 2]), 0), 1e-15);
        // eps is added inside the root: [1, 1] with eps 1 -> 1/√2
        TensorAssert.Close([Math.Sqrt(0.5), Math.Sqrt(0.5)], Functional.RmsNorm(Make.F64([1, 1]), Make.F64([1, 1]), 1), 1e-15);
        // normalises each row over the last dimension
        TensorAssert.Close([1, -1, 2 / Math.Sqrt(2.5), 1 / Math.Sqrt(2.5)],
            Functional.RmsNorm(Make.F64([5, -5, 2, 1], 2, 2), Make.F64([1, 1]), 0), 1e-15, shape: [2, 2]);
    }

    [Fact]
    public void SwiGlu()
    {
        using var scope = DisposeScope.Open();
        // x = [1, 2]; gate row [1, 0] -> 1 -> silu(1) = σ(1); up row [0, 1] -> 2; h = 2σ(1); down [[2], [-1]]
        var x = Make.F64([1, 2], 1, 2);
        var gate = Make.F64([1, 0], 1, 2);
        var up = Make.F64([0, 1], 1, 2);
        var down = Make.F64([2, -1], 2, 1);
        var h = 2 / (1 + Math.Exp(-1));
        TensorAssert.Close([2 * h, -h], Functional.SwiGlu(x, gate, up, down), 1e-15, shape: [1, 2]);
    }

    [Fact]
    public void ApplyRotaryRotatesHalves()
    {
        using var scope = DisposeScope.Open();
        // pairs (x0, x2) and (x1, x3); angle π/2 for the first pair, 0 for the second:
        // (1, 3) -> (-3, 1); (2, 4) unchanged.
        var cos = Make.F64([0, 1, 0, 1], 1, 4);
        var sin = Make.F64([1, 0, 1, 0], 1, 4);
        TensorAssert.Close([-3, 2, 1, 4], Functional.ApplyRotary(Make.F64([1, 2, 3, 4], 1, 4), cos, sin), 1e-15, shape: [1, 4]);

        // [batch 1, heads 2, length 2, dim 2]: cos/sin [2, 2] broadcast over batch and heads.
        // position 0: angle 0 (identity); position 1: angle θ, (a, b) -> (a cosθ - b sinθ, b cosθ + a sinθ)
        const double theta = 0.3;
        var c = Math.Cos(theta);
        var sn = Math.Sin(theta);
        var cos2 = Make.F64([1, 1, c, c], 2, 2);
        var sin2 = Make.F64([0, 0, sn, sn], 2, 2);
        var x = Make.F64([1, 2, 3, 4, 5, 6, 7, 8], 1, 2, 2, 2);
        var expected = new[] { 1, 2, 3 * c - 4 * sn, 4 * c + 3 * sn, 5, 6, 7 * c - 8 * sn, 8 * c + 7 * sn };
        TensorAssert.Close(expected, Functional.ApplyRotary(x, cos2, sin2), 1e-15, shape: [1, 2, 2, 2]);
    }

    // q = k = I (two positions, head_dim 2), v = [[1, 2], [3, 4]]: scores = s·I with s = 1/√2.
    private static (Tensor Q, Tensor K, Tensor V) Attention() =>
        (Make.F64([1, 0, 0, 1], 1, 1, 2, 2), Make.F64([1, 0, 0, 1], 1, 1, 2, 2), Make.F64([1, 2, 3, 4], 1, 1, 2, 2));

    private static double[] Mix(double w0, double w1) => [w0 * 1 + w1 * 3, w0 * 2 + w1 * 4];

    [Fact]
    public void ScaledDotProductAttentionPlain()
    {
        using var scope = DisposeScope.Open();
        var (q, k, v) = Attention();
        var s = 1 / Math.Sqrt(2);
        var p = Math.Exp(s) / (Math.Exp(s) + 1); // weight of the matching key
        var expected = Mix(p, 1 - p).Concat(Mix(1 - p, p)).ToArray();
        TensorAssert.Close(expected, Functional.ScaledDotProductAttention(q, k, v), 1e-14, shape: [1, 1, 2, 2]);

        // explicit scale 1
        var p1 = Math.E / (Math.E + 1);
        TensorAssert.Close(Mix(p1, 1 - p1).Concat(Mix(1 - p1, p1)).ToArray(), Functional.ScaledDotProductAttention(q, k, v, scale: 1), 1e-14);
    }

    [Fact]
    public void ScaledDotProductAttentionCausalAndBooleanMask()
    {
        using var scope = DisposeScope.Open();
        var (q, k, v) = Attention();
        var s = 1 / Math.Sqrt(2);
        var p = Math.Exp(s) / (Math.Exp(s) + 1);
        // position 0 sees only key 0; position 1 sees both
        var expected = Mix(1, 0).Concat(Mix(1 - p, p)).ToArray();
        TensorAssert.Close(expected, Functional.ScaledDotProductAttention(q, k, v, isCausal: true), 1e-14);
        var mask = Make.Bool([true, false, true, true], 2, 2);
        TensorAssert.Close(expected, Functional.ScaledDotProductAttention(q, k, v, mask), 1e-14);
        // a mask that hides key 0 from position 1 only
        var mask2 = Make.Bool([true, true, false, true], 2, 2);
        TensorAssert.Close(Mix(p, 1 - p).Concat(Mix(0, 1)).ToArray(), Functional.ScaledDotProductAttention(q, k, v, mask2), 1e-14);
    }

    [Fact]
    public void ScaledDotProductAttentionAdditiveMask()
    {
        using var scope = DisposeScope.Open();
        var (q, k, v) = Attention();
        var s = 1 / Math.Sqrt(2);
        // row 0 scores [s, 0 + ln 2]; row 1 scores [0, s]
        var mask = Make.F64([0, Math.Log(2), 0, 0], 2, 2);
        var w0 = Math.Exp(s) / (Math.Exp(s) + 2);
        var p = Math.Exp(s) / (Math.Exp(s) + 1);
        var expected = Mix(w0, 1 - w0).Concat(Mix(1 - p, p)).ToArray();
        TensorAssert.Close(expected, Functional.ScaledDotProductAttention(q, k, v, mask), 1e-14);
    }

    [Fact]
    public void ScaledDotProductAttentionMatchesComposition()
    {
        using var scope = DisposeScope.Open();
        var q = Make.Det([2, 2, 3, 4], 0.1);
        var k = Make.Det([2, 2, 3, 4], 1.2);
        var v = Make.Det([2, 2, 3, 4], 2.3);
        var scores = q.MatMul(k.Transpose(-2, -1)) * (1 / Math.Sqrt(4));
        var hidden = Tensor.Ones([3, 3], DType.Bool).Tril().LogicalNot();
        var composed = Functional.Softmax(scores.MaskedFill(hidden, double.NegativeInfinity), -1).MatMul(v);
        TensorAssert.Close(TensorAssert.Values(composed), Functional.ScaledDotProductAttention(q, k, v, isCausal: true), 1e-14);
    }

    [Fact]
    public void MultinomialWithOneHotRows()
    {
        using var scope = DisposeScope.Open();
        var probs = Make.F32([0, 0, 1, 0, 1, 0, 0, 0], 2, 4);
        TensorAssert.Equal(new long[] { 2, 0 }, Functional.Multinomial(probs, 1), [2, 1]);
        TensorAssert.Equal(new long[] { 2, 2, 2, 0, 0, 0 }, Functional.Multinomial(probs, 3, replacement: true), [2, 3]);
        // unnormalised weights work too
        TensorAssert.Equal(new long[] { 1 }, Functional.Multinomial(Make.F32([0, 5]), 1));
    }

    [Fact]
    public void DropoutIsIdentityInEval()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F32([1, 2, 3, 4]);
        TensorAssert.Equal(new[] { 1f, 2f, 3f, 4f }, Functional.Dropout(x, 0.5, training: false));
        TensorAssert.Equal(new[] { 1f, 2f, 3f, 4f }, Functional.Dropout(x, 0, training: true));
        TensorAssert.Equal(new[] { 0f, 0f, 0f, 0f }, Functional.Dropout(x, 1, training: true));
        // training with p = 0.5: each element is 0 or doubled
        var d = Functional.Dropout(Tensor.Ones([1000]), 0.5, training: true).ToArray<float>();
        Assert.All(d, e => Assert.True(e == 0 || e == 2, $"unexpected {e}"));
        Assert.Contains(0f, d);
        Assert.Contains(2f, d);
    }
}
