using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Ops;

public class ReductionTests
{
    // [[1, 2, 3],
    //  [4, 5, 6]]
    private static Tensor X() => Make.F64([1, 2, 3, 4, 5, 6], 2, 3);

    [Fact]
    public void SumAndMean()
    {
        using var scope = DisposeScope.Open();
        var x = X();
        TensorAssert.Close(21, x.Sum(), 0);
        Assert.Equal(0, x.Sum().Dim);
        TensorAssert.Close([5, 7, 9], x.Sum(0), 0, shape: [3]);
        TensorAssert.Close([6, 15], x.Sum(1, keepDim: true), 0, shape: [2, 1]);
        TensorAssert.Close([6, 15], x.Sum(-1), 0, shape: [2]);
        TensorAssert.Close([21], x.Sum([0, 1], keepDim: true), 0, shape: [1, 1]);
        TensorAssert.Close(3.5, x.Mean(), 0);
        TensorAssert.Close([2.5, 3.5, 4.5], x.Mean(0), 0, shape: [3]);
        TensorAssert.Close([2, 5], x.Mean(1, keepDim: true), 0, shape: [2, 1]);
        TensorAssert.Close([3.5], x.Mean([0, 1]), 0, shape: []);
    }

    [Fact]
    public void MaxMinAmaxAmin()
    {
        using var scope = DisposeScope.Open();
        // [[3, 1, 2],
        //  [0, 7, 5]]
        var y = Make.F64([3, 1, 2, 0, 7, 5], 2, 3);
        TensorAssert.Close(7, y.Max(), 0);
        TensorAssert.Close(0, y.Min(), 0);

        var (values, indices) = y.Max(1);
        TensorAssert.Close([3, 7], values, 0, shape: [2]);
        TensorAssert.Equal(new long[] { 0, 1 }, indices, [2]);

        var (v0, i0) = y.Max(0, keepDim: true);
        TensorAssert.Close([3, 7, 5], v0, 0, shape: [1, 3]);
        TensorAssert.Equal(new long[] { 0, 1, 1 }, i0, [1, 3]);

        TensorAssert.Close([3, 7, 5], y.Amax([0]), 0, shape: [3]);
        TensorAssert.Close([7], y.Amax([0, 1], keepDim: true), 0, shape: [1, 1]);
        TensorAssert.Close([1, 0], y.Amin([1]), 0, shape: [2]);
        TensorAssert.Equal(new long[] { 0, 1 }, y.ArgMax(1));
        TensorAssert.Equal(new long[] { 1, 0 }, y.ArgMin(1));
        TensorAssert.Equal(new long[] { 0, 1, 1 }, y.ArgMax(0, keepDim: true), [1, 3]);
    }

    [Fact]
    public void VariancePopulationAndUnbiased()
    {
        using var scope = DisposeScope.Open();
        // mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5
        var v = Make.F64([1, 2, 3, 4]);
        TensorAssert.Close([5.0 / 4], v.Var([0]), 1e-15);
        TensorAssert.Close([5.0 / 3], v.Var([0], unbiased: true), 1e-15);
        // per row of X: deviations 1 + 0 + 1 = 2
        TensorAssert.Close([2.0 / 3, 2.0 / 3], X().Var([1]), 1e-15, shape: [2]);
        TensorAssert.Close([1, 1], X().Var([1], unbiased: true, keepDim: true), 1e-15, shape: [2, 1]);
        // over everything: mean 3.5, deviations 6.25+2.25+0.25+0.25+2.25+6.25 = 17.5
        TensorAssert.Close([17.5 / 6], X().Var([0, 1]), 1e-15);
    }

    [Fact]
    public void LogSumExpAndCumSum()
    {
        using var scope = DisposeScope.Open();
        // log(e^0 + e^ln3) = ln 4
        TensorAssert.Close([Math.Log(4)], Make.F64([0, Math.Log(3)]).LogSumExp(0), 1e-15);
        var m = Make.F64([0, Math.Log(3), Math.Log(2), Math.Log(2)], 2, 2);
        TensorAssert.Close([Math.Log(4), Math.Log(4)], m.LogSumExp(1), 1e-15, shape: [2]);
        TensorAssert.Close([Math.Log(4), Math.Log(4)], m.LogSumExp(-1, keepDim: true), 1e-15, shape: [2, 1]);
        // stable for large inputs: 1000 + ln 2
        TensorAssert.Close([1000 + Math.Log(2)], Make.F64([1000, 1000]).LogSumExp(0), 1e-15);

        TensorAssert.Close([1, 3, 6, 10], Make.F64([1, 2, 3, 4]).CumSum(0), 0);
        TensorAssert.Close([1, 2, 3, 5, 7, 9], X().CumSum(0), 0, shape: [2, 3]);
        TensorAssert.Close([1, 3, 6, 4, 9, 15], X().CumSum(1), 0, shape: [2, 3]);
    }

    [Fact]
    public void AllAnyNorm()
    {
        using var scope = DisposeScope.Open();
        Assert.True(Make.Bool([true, true]).All());
        Assert.False(Make.Bool([true, false]).All());
        Assert.True(Make.Bool([true, false]).Any());
        Assert.False(Make.Bool([false, false]).Any());
        Assert.False(Make.F32([1, 0]).All());
        Assert.True(Make.F32([1, 0]).Any());

        TensorAssert.Close(5, Make.F64([3, 4]).Norm(), 1e-15);
        TensorAssert.Close(7, Make.F64([3, -4]).Norm(1), 1e-15);
        TensorAssert.Close(4, Make.F64([3, -4]).Norm(double.PositiveInfinity), 1e-15);
        TensorAssert.Close(Math.Sqrt(91), X().Norm(), 1e-15);
    }

    [Fact]
    public void TopKAndSort()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F32([1, 5, 3, 4, 2]);
        var (v, i) = x.TopK(2);
        TensorAssert.Equal(new[] { 5f, 4f }, v);
        TensorAssert.Equal(new long[] { 1, 3 }, i);
        var (vs, iss) = x.TopK(2, largest: false);
        TensorAssert.Equal(new[] { 1f, 2f }, vs);
        TensorAssert.Equal(new long[] { 0, 4 }, iss);

        var rows = Make.F32([3, 1, 2, 9, 7, 8], 2, 3);
        var (rv, ri) = rows.TopK(1, dim: 1);
        TensorAssert.Equal(new[] { 3f, 9f }, rv, [2, 1]);
        TensorAssert.Equal(new long[] { 0, 0 }, ri, [2, 1]);

        var (sv, si) = Make.F32([3, 1, 2]).Sort();
        TensorAssert.Equal(new[] { 1f, 2f, 3f }, sv);
        TensorAssert.Equal(new long[] { 1, 2, 0 }, si);
        var (dv, di) = Make.F32([3, 1, 2]).Sort(descending: true);
        TensorAssert.Equal(new[] { 3f, 2f, 1f }, dv);
        TensorAssert.Equal(new long[] { 0, 2, 1 }, di);
        var (cv, ci) = rows.Sort(dim: 0);
        TensorAssert.Equal(new[] { 3f, 1f, 2f, 9f, 7f, 8f }, cv);
        TensorAssert.Equal(new long[] { 0, 0, 0, 1, 1, 1 }, ci);
    }
}
