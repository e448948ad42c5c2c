using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Ops;

public class ArithmeticTests
{
    [Fact]
    public void TensorTensorOperators()
    {
        using var scope = DisposeScope.Open();
        var a = Make.F32([1, 2, 3]);
        var b = Make.F32([4, 5, 6]);
        TensorAssert.Equal(new[] { 5f, 7f, 9f }, a + b);
        TensorAssert.Equal(new[] { -3f, -3f, -3f }, a - b);
        TensorAssert.Equal(new[] { 4f, 10f, 18f }, a * b);
        TensorAssert.Equal(new[] { 4f, 2.5f, 2f }, b / a);
        TensorAssert.Equal(new[] { -1f, -2f, -3f }, -a);
        TensorAssert.Equal(new[] { 1f, 32f, 729f }, a.Pow(b));
        TensorAssert.Equal(new[] { 4f, 5f, 6f }, a.Maximum(b));
        TensorAssert.Equal(new[] { 1f, 2f, 3f }, b.Minimum(a));
    }

    [Fact]
    public void TensorScalarOperatorsInBothOrders()
    {
        using var scope = DisposeScope.Open();
        var a = Make.F32([1, 2, 4]);
        TensorAssert.Equal(new[] { 2f, 3f, 5f }, a + 1);
        TensorAssert.Equal(new[] { 2f, 3f, 5f }, 1 + a);
        TensorAssert.Equal(new[] { 0f, 1f, 3f }, a - 1);
        TensorAssert.Equal(new[] { 9f, 8f, 6f }, 10 - a);
        TensorAssert.Equal(new[] { 2f, 4f, 8f }, a * 2);
        TensorAssert.Equal(new[] { 2f, 4f, 8f }, 2 * a);
        TensorAssert.Equal(new[] { 0.5f, 1f, 2f }, a / 2);
        TensorAssert.Equal(new[] { 8f, 4f, 2f }, 8 / a);
        TensorAssert.Close([1.0 / 3, 0.5, 0.2], 1 / Make.F64([3, 2, 5]), 1e-15);
        TensorAssert.Equal(new[] { 1f, 4f, 16f }, a.Pow(2));
        TensorAssert.Equal(new[] { 1.5f, 2f, 4f }, a.Maximum(Make.F32([1.5f])));
    }

    [Fact]
    public void IntegerTensorsPromote()
    {
        using var scope = DisposeScope.Open();
        var i = Make.I64([1, 2, 3]);
        // true division of integers gives floats
        var half = i / 2;
        Assert.Equal(DType.Float32, half.DType);
        TensorAssert.Equal(new[] { 0.5f, 1f, 1.5f }, half);
        var sum = i + 1;
        TensorAssert.Equal(new long[] { 2, 3, 4 }, sum);
        TensorAssert.Equal(new long[] { 9, 8, 7 }, 10 - i);
        // int + float tensor -> float
        Assert.Equal(DType.Float32, (i + Make.F32([0.5f, 0.5f, 0.5f])).DType);
    }

    [Fact]
    public void RemainderFollowsTheDivisorsSign()
    {
        using var scope = DisposeScope.Open();
        TensorAssert.Equal(new[] { 1f, 1f, 0f }, Make.F32([-3, 3, 4]).Remainder(2));
        TensorAssert.Equal(new[] { -1f, 2f }, Make.F32([5, 5]).Remainder(Make.F32([-3, 3])));
    }

    [Fact]
    public void Broadcasting()
    {
        using var scope = DisposeScope.Open();
        var col = Make.F32([1, 2], 2, 1);
        var row = Make.F32([10, 20, 30]);
        TensorAssert.Equal(new[] { 11f, 21f, 31f, 12f, 22f, 32f }, col + row, [2, 3]);
        TensorAssert.Equal(new[] { 10f, 20f, 30f, 20f, 40f, 60f }, col * row, [2, 3]);
        TensorAssert.Equal(new[] { 9f, 19f, 29f, 8f, 18f, 28f }, row - col, [2, 3]);
        var batch = Tensor.Ones([2, 1, 3]);
        Assert.Equal([2L, 2L, 3L], (batch + (col + row)).Shape);
        Assert.Throws<TorchException>(() => Make.F32([1, 2]) + Make.F32([1, 2, 3]));
    }

    [Fact]
    public void Comparisons()
    {
        using var scope = DisposeScope.Open();
        var a = Make.F32([1, 2, 3]);
        var c = Make.F32([3, 2, 1]);
        TensorAssert.Equal(new[] { false, true, false }, a.Eq(c));
        TensorAssert.Equal(new[] { true, false, true }, a.Ne(c));
        TensorAssert.Equal(new[] { true, false, false }, a.Lt(c));
        TensorAssert.Equal(new[] { true, true, false }, a.Le(c));
        TensorAssert.Equal(new[] { false, false, true }, a.Gt(c));
        TensorAssert.Equal(new[] { false, true, true }, a.Ge(c));
        TensorAssert.Equal(new[] { false, true, true }, a.Gt(1.5));
        TensorAssert.Equal(new[] { false, true, false }, a.Eq(2));
        TensorAssert.Equal(new[] { true, false, true }, a.Ne(2));
        TensorAssert.Equal(new[] { true, true, false }, a.Lt(3));
        TensorAssert.Equal(new[] { true, true, true }, a.Le(3));
        TensorAssert.Equal(new[] { false, false, true }, a.Ge(3));
        // NaN compares unequal to everything, itself included
        var nan = Make.F32([float.NaN]);
        TensorAssert.Equal(new[] { false }, nan.Eq(nan));
    }

    [Fact]
    public void LogicalOps()
    {
        using var scope = DisposeScope.Open();
        var p = Make.Bool([true, true, false, false]);
        var q = Make.Bool([true, false, true, false]);
        TensorAssert.Equal(new[] { true, false, false, false }, p.LogicalAnd(q));
        TensorAssert.Equal(new[] { true, true, true, false }, p.LogicalOr(q));
        TensorAssert.Equal(new[] { false, false, true, true }, p.LogicalNot());
        // non-bool inputs: non-zero counts as true
        TensorAssert.Equal(new[] { true, false }, Make.F32([2, 0]).LogicalNot().LogicalNot());
    }

    [Fact]
    public void InPlaceOperations()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F32([1, 2]);
        x.AddInPlace(Make.F32([10, 20]), 0.5);
        TensorAssert.Equal(new[] { 6f, 12f }, x);
        x.MulInPlace(2);
        TensorAssert.Equal(new[] { 12f, 24f }, x);
        x.CopyFrom(Make.F64([7]));
        TensorAssert.Equal(new[] { 7f, 7f }, x);
        x.ZeroInPlace();
        TensorAssert.Equal(new[] { 0f, 0f }, x);
        x.FillInPlace(-1);
        TensorAssert.Equal(new[] { -1f, -1f }, x);
    }
}
