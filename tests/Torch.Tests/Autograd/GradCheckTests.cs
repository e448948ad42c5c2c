using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Autograd;

/// <summary>Autograd gradients against central finite differences (float64) for the ops models and losses use.</summary>
public class GradCheckTests
{
    private static readonly long[] M = [2, 3];

    [Fact]
    public void HelperDetectsAWrongGradient()
    {
        using var scope = DisposeScope.Open();
        // Detach hides x from autograd in one factor: the analytic gradient is x, the true one 2x.
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
            GradCheck.Check(x => (x * x.Detach()).Sum(), Make.Det(M)));
    }

    [Fact]
    public void ArithmeticWithBroadcasting()
    {
        using var scope = DisposeScope.Open();
        var a = Make.Det(M, 0.1);
        var b = Make.Positive([3], 0.7);
        GradCheck.CheckAll(x => GradCheck.Project(x[0] + x[1]), a, b);
        GradCheck.CheckAll(x => GradCheck.Project(x[0] - x[1]), a, b);
        GradCheck.CheckAll(x => GradCheck.Project(x[0] * x[1]), a, b);
        GradCheck.CheckAll(x => GradCheck.Project(x[0] / x[1]), a, b);
        GradCheck.Check(x => GradCheck.Project(2 - x * 3 + 1), a);
        GradCheck.Check(x => GradCheck.Project(1.5 / x), Make.Positive(M));
        GradCheck.Check(x => GradCheck.Project(x / 4), a);
    }

    [Fact]
    public void Pow()
    {
        using var scope = DisposeScope.Open();
        GradCheck.Check(x => GradCheck.Project(x.Pow(3)), Make.Det(M));
        GradCheck.Check(x => GradCheck.Project(x.Pow(0.5)), Make.Positive(M));
        GradCheck.CheckAll(x => GradCheck.Project(x[0].Pow(x[1])), Make.Positive(M, 0.2), Make.Det(M, 0.9));
    }

    [Fact]
    public void UnaryFunctions()
    {
        using var scope = DisposeScope.Open();
        var x = Make.Det(M);
        var pos = Make.Positive(M);
        GradCheck.Check(t => GradCheck.Project(t.Exp()), x);
        GradCheck.Check(t => GradCheck.Project(t.Log()), pos);
        GradCheck.Check(t => GradCheck.Project(t.Sqrt()), pos);
        GradCheck.Check(t => GradCheck.Project(t.Rsqrt()), pos);
        GradCheck.Check(t => GradCheck.Project(t.Tanh()), x);
        GradCheck.Check(t => GradCheck.Project(t.Sigmoid()), x);
        GradCheck.Check(t => GradCheck.Project(t.Silu()), x);
        GradCheck.Check(t => GradCheck.Project(t.Gelu()), x);
        GradCheck.Check(t => GradCheck.Project(t.Gelu(tanhApproximation: true)), x);
        GradCheck.Check(t => GradCheck.Project(t.Square()), x);
        GradCheck.Check(t => GradCheck.Project(-t), x);
    }

    [Fact]
    public void SoftmaxAndLogSoftmax()
    {
        using var scope = DisposeScope.Open();
        var x = Make.Det([2, 4], scale: 2);
        GradCheck.Check(t => GradCheck.Project(Functional.Softmax(t, -1)), x);
        GradCheck.Check(t => GradCheck.Project(Functional.Softmax(t, 0)), x);
        GradCheck.Check(t => GradCheck.Project(Functional.LogSoftmax(t, -1)), x);
    }

    [Fact]
    public void MatMulBmmLinear()
    {
        using var scope = DisposeScope.Open();
        GradCheck.CheckAll(x => GradCheck.Project(x[0].MatMul(x[1])), Make.Det([2, 3], 0.1), Make.Det([3, 2], 0.5));
        // batched with broadcasting of the right operand
        GradCheck.CheckAll(x => GradCheck.Project(x[0].MatMul(x[1])), Make.Det([2, 2, 3], 0.1), Make.Det([3, 2], 0.5));
        GradCheck.CheckAll(x => GradCheck.Project(x[0].Bmm(x[1])), Make.Det([2, 2, 3], 0.2), Make.Det([2, 3, 2], 0.6));
        GradCheck.CheckAll(x => GradCheck.Project(Functional.Linear(x[0], x[1], x[2])),
            Make.Det([2, 3], 0.3), Make.Det([4, 3], 0.8), Make.Det([4], 1.9));
        GradCheck.CheckAll(x => GradCheck.Project(Functional.Linear(x[0], x[1])), Make.Det([1, 2, 3], 0.3), Make.Det([4, 3], 0.8));
    }

    [Fact]
    public void EmbeddingPaddingRowGetsNoGradientFromLookups()
    {
        using var scope = DisposeScope.Open();
        var ids = Make.I64([1, 3, 1, 0], 2, 2);
        var weight = Make.Det([4, 3]).RequiresGradient();
        using (var table = new FuseChat.Torch.Nn.Embedding(4, 3, paddingIndex: 1))
        {
            Assert.Equal(1L, table.PaddingIndex);
        }
        Functional.Embedding(weight, ids, paddingIndex: 1).Sum().Backward();
        // Rows 0 and 3 are looked up once each, row 1 twice but it is the padding row, row 2 never.
        TensorAssert.Equal(new[] { 1d, 1d, 1d, 0d, 0d, 0d, 0d, 0d, 0d, 1d, 1d, 1d }, weight.Grad!.Reshape(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FuseChat.Torch.Nn.Embedding(4, 3, paddingIndex: 4));
    }

    [Fact]
    public void EmbeddingWeight()
    {
        using var scope = DisposeScope.Open();
        // index 1 appears twice: its row's gradient must accumulate both uses
        var ids = Make.I64([1, 3, 1, 0], 2, 2);
        GradCheck.Check(w => GradCheck.Project(Functional.Embedding(w, ids)), Make.Det([4, 3]));
    }

    [Fact]
    public void Reductions()
    {
        using var scope = DisposeScope.Open();
        var x = Make.Det([2, 3, 2]);
        GradCheck.Check(t => t.Sum(), x);
        GradCheck.Check(t => t.Mean(), x);
        GradCheck.Check(t => GradCheck.Project(t.Sum(1)), x);
        GradCheck.Check(t => GradCheck.Project(t.Sum([0, 2], keepDim: true)), x);
        GradCheck.Check(t => GradCheck.Project(t.Mean(-1, keepDim: true)), x);
        GradCheck.Check(t => GradCheck.Project(t.Mean([0, 1])), x);
        GradCheck.Check(t => GradCheck.Project(t.LogSumExp(1)), x);
    }

    [Fact]
    public void IndexingAndViews()
    {
        using var scope = DisposeScope.Open();
        var x = Make.Det([3, 4]);
        var index = Make.I64([0, 3, 3, 1, 2, 2], 3, 2);
        GradCheck.Check(t => GradCheck.Project(t.Gather(1, index)), x);
        GradCheck.Check(t => GradCheck.Project(t.Narrow(1, 1, 2)), x);
        GradCheck.Check(t => GradCheck.Project(t.Slice(1, 0, 4, 2)), x);
        GradCheck.Check(t => GradCheck.Project(t.Slice(0, -2, 3)), x);
        GradCheck.Check(t => GradCheck.Project(t.Transpose(0, 1).MatMul(t)), x);
        GradCheck.Check(t => GradCheck.Project(t.Reshape(2, 6)), x);
        GradCheck.CheckAll(t => GradCheck.Project(Tensor.Cat([t[0], t[1], t[0]], 1)), Make.Det([2, 3]), Make.Det([2, 2], 0.4));
    }

    [Fact]
    public void MaskedFillAndWhere()
    {
        using var scope = DisposeScope.Open();
        var mask = Make.Bool([true, false, false, true, false, true], 2, 3);
        GradCheck.Check(t => GradCheck.Project(t.MaskedFill(mask, -5)), Make.Det(M));
        GradCheck.CheckAll(t => GradCheck.Project(Tensor.Where(mask, t[0], t[1])), Make.Det(M, 0.1), Make.Det(M, 0.2));

        // masked positions get no gradient
        var x = Make.Det(M).RequiresGradient();
        x.MaskedFill(mask, 0).Sum().Backward();
        TensorAssert.Close([0, 1, 1, 0, 1, 0], x.Grad!, 0);
    }

    [Fact]
    public void RmsNormInputAndWeight()
    {
        using var scope = DisposeScope.Open();
        GradCheck.CheckAll(t => GradCheck.Project(Functional.RmsNorm(t[0], t[1], 1e-6)), Make.Det([2, 4]), Make.Positive([4]));
    }

    [Fact]
    public void ApplyRotary()
    {
        using var scope = DisposeScope.Open();
        var angles = Make.Det([3, 4], 0.5);
        var cos = angles.Cos();
        var sin = angles.Sin();
        GradCheck.Check(t => GradCheck.Project(Functional.ApplyRotary(t, cos, sin)), Make.Det([1, 2, 3, 4]));
        GradCheck.CheckAll(t => GradCheck.Project(Functional.ApplyRotary(t[0], t[1], t[2])), Make.Det([1, 2, 3, 4]), cos, sin);
    }

    [Fact]
    public void ScaledDotProductAttention()
    {
        using var scope = DisposeScope.Open();
        long[] shape = [1, 2, 3, 2];
        var q = Make.Det(shape, 0.1);
        var k = Make.Det(shape, 1.1);
        var v = Make.Det(shape, 2.1);
        GradCheck.CheckAll(t => GradCheck.Project(Functional.ScaledDotProductAttention(t[0], t[1], t[2])), q, k, v);
        GradCheck.CheckAll(t => GradCheck.Project(Functional.ScaledDotProductAttention(t[0], t[1], t[2], isCausal: true)), q, k, v);
        var additive = Make.Det([3, 3], 3.3);
        GradCheck.CheckAll(t => GradCheck.Project(Functional.ScaledDotProductAttention(t[0], t[1], t[2], additive)), q, k, v);
    }

    [Fact]
    public void CrossEntropyWithIgnoredTargets()
    {
        using var scope = DisposeScope.Open();
        var targets = Make.I64([1, -100, 3, 0]);
        var logits = Make.Det([4, 5], scale: 2);
        GradCheck.Check(t => Functional.CrossEntropy(t, targets), logits);
        GradCheck.Check(t => Functional.CrossEntropy(t, targets, reduction: Reduction.Sum), logits);
        GradCheck.Check(t => Functional.CrossEntropy(t, targets, labelSmoothing: 0.1), logits);

        // the ignored row gets exactly zero gradient
        var x = logits.Detach().RequiresGradient();
        Functional.CrossEntropy(x, targets).Backward();
        TensorAssert.Close(new double[5], x.Grad![1], 0);
    }
}
