using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Ops;

public class LinearAlgebraTests
{
    // A = [[1, 2], [3, 4]], B = [[5, 6], [7, 8]], AB = [[19, 22], [43, 50]]
    private static Tensor A() => Make.F64([1, 2, 3, 4], 2, 2);
    private static Tensor B() => Make.F64([5, 6, 7, 8], 2, 2);

    [Fact]
    public void MatMulTwoDimensional()
    {
        using var scope = DisposeScope.Open();
        TensorAssert.Close([19, 22, 43, 50], A().MatMul(B()), 0, shape: [2, 2]);
        TensorAssert.Close([23, 34, 31, 46], B().MatMul(A()), 0, shape: [2, 2]);
        // [1, 2] · [3, 4]ᵀ
        TensorAssert.Close([11], Make.F64([1, 2]).MatMul(Make.F64([3, 4])), 0);
        Assert.Equal(0, Make.F64([1, 2]).MatMul(Make.F64([3, 4])).Dim);
        // [2, 3] x [3, 1]
        TensorAssert.Close([14, 32], Make.F64([1, 2, 3, 4, 5, 6], 2, 3).MatMul(Make.F64([1, 2, 3], 3, 1)), 0, shape: [2, 1]);
    }

    [Fact]
    public void MatMulBroadcastsBatches()
    {
        using var scope = DisposeScope.Open();
        // batch [A, I] times a single B: [AB, B]
        var batch = Make.F64([1, 2, 3, 4, 1, 0, 0, 1], 2, 2, 2);
        TensorAssert.Close([19, 22, 43, 50, 5, 6, 7, 8], batch.MatMul(B()), 0, shape: [2, 2, 2]);
        // [2, 1, 2, 2] x [3, 2, 2] -> [2, 3, 2, 2]
        var left = Make.F64([1, 0, 0, 1, 2, 0, 0, 2], 2, 1, 2, 2);
        var right = Make.F64([1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 1, 0], 3, 2, 2);
        var product = left.MatMul(right);
        Assert.Equal([2L, 3L, 2L, 2L], product.Shape);
        TensorAssert.Close([1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 1, 0, 2, 4, 6, 8, 10, 12, 14, 16, 0, 2, 2, 0], product, 0);
    }

    [Fact]
    public void Bmm()
    {
        using var scope = DisposeScope.Open();
        var left = Make.F64([1, 2, 3, 4, 1, 0, 0, 1], 2, 2, 2);
        var right = Make.F64([5, 6, 7, 8, 5, 6, 7, 8], 2, 2, 2);
        TensorAssert.Close([19, 22, 43, 50, 5, 6, 7, 8], left.Bmm(right), 0, shape: [2, 2, 2]);
        // bmm does not broadcast
        Assert.Throws<TorchException>(() => left.Bmm(B()));
    }

    [Fact]
    public void LinearWithAndWithoutBias()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F64([1, 2, -1, 1], 2, 2);
        var w = Make.F64([1, 0, 1, 1, 2, -1], 3, 2);
        // x Wᵀ: row [1, 2] -> [1, 3, 0]; row [-1, 1] -> [-1, 0, -3]
        TensorAssert.Close([1, 3, 0, -1, 0, -3], Functional.Linear(x, w), 0, shape: [2, 3]);
        var b = Make.F64([0.5, -1, 2]);
        TensorAssert.Close([1.5, 2, 2, -0.5, -1, -1], Functional.Linear(x, w, b), 0, shape: [2, 3]);
        // leading batch dimensions pass through
        Assert.Equal([1L, 2L, 3L], Functional.Linear(x.Unsqueeze(0), w, b).Shape);
    }
}
