using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Ops;

public class ViewTests
{
    // [[0, 1, 2],
    //  [3, 4, 5]]
    private static Tensor Grid() => Tensor.Arange(0, 6).Reshape(2, 3);

    [Fact]
    public void ReshapeAndView()
    {
        using var scope = DisposeScope.Open();
        var x = Grid();
        TensorAssert.Equal(new long[] { 0, 1, 2, 3, 4, 5 }, x.View(3, 2), [3, 2]);
        TensorAssert.Equal(new long[] { 0, 1, 2, 3, 4, 5 }, x.Reshape(-1, 2), [3, 2]);
        TensorAssert.Equal(new long[] { 0, 1, 2, 3, 4, 5 }, x.Reshape(6), [6]);
        // A view shares storage with its base.
        var v = Tensor.Zeros([4]);
        v.View(2, 2)[1].FillInPlace(9);
        TensorAssert.Equal(new[] { 0f, 0f, 9f, 9f }, v);
    }

    [Fact]
    public void TransposePermuteContiguous()
    {
        using var scope = DisposeScope.Open();
        var x = Grid();
        var t = x.Transpose(0, 1);
        TensorAssert.Equal(new long[] { 0, 3, 1, 4, 2, 5 }, t, [3, 2]);
        Assert.False(t.IsContiguous);
        var c = t.Contiguous();
        Assert.True(c.IsContiguous);
        TensorAssert.Equal(new long[] { 0, 3, 1, 4, 2, 5 }, c.View(6));
        // A transposed tensor cannot be viewed as flat; reshape copies.
        Assert.Throws<TorchException>(() => t.View(6));
        TensorAssert.Equal(new long[] { 0, 3, 1, 4, 2, 5 }, t.Reshape(6));

        // y[0, c, a] = 3c + a; Permute(2, 0, 1) gives out[a, 0, c] = 3c + a.
        var p = x.Reshape(1, 2, 3).Permute(2, 0, 1);
        TensorAssert.Equal(new long[] { 0, 3, 1, 4, 2, 5 }, p, [3, 1, 2]);
    }

    [Fact]
    public void NarrowSliceSelect()
    {
        using var scope = DisposeScope.Open();
        var x = Grid();
        TensorAssert.Equal(new long[] { 1, 2, 4, 5 }, x.Narrow(1, 1, 2), [2, 2]);
        TensorAssert.Equal(new long[] { 3, 4, 5 }, x.Narrow(0, 1, 1), [1, 3]);

        var v = Tensor.Arange(0, 10);
        TensorAssert.Equal(new long[] { 1, 4, 7 }, v.Slice(0, 1, 8, 3));
        TensorAssert.Equal(new long[] { 0, 2, 4, 6, 8 }, v.Slice(0, 0, 10, 2));
        TensorAssert.Equal(new long[] { 6, 7, 8 }, v.Slice(0, -4, -1));
        TensorAssert.Equal(new long[] { 7, 9 }, v.Slice(0, -3, long.MaxValue, 2));
        TensorAssert.Equal(new long[] { 1, 2, 4, 5 }, x.Slice(-1, 1, 3), [2, 2]);

        TensorAssert.Equal(new long[] { 2, 5 }, x.Select(1, 2), [2]);
        TensorAssert.Equal(new long[] { 3, 4, 5 }, x.Select(0, -1), [3]);
        Assert.Equal(4, x.Select(0, 1).Select(0, 1).ToInt64());
    }

    [Fact]
    public void Indexers()
    {
        using var scope = DisposeScope.Open();
        var x = Grid();
        TensorAssert.Equal(new long[] { 3, 4, 5 }, x[1], [3]);
        var v = Tensor.Arange(0, 10);
        TensorAssert.Equal(new long[] { 1, 2 }, v[1..3]);
        TensorAssert.Equal(new long[] { 7, 8, 9 }, v[^3..]);
        TensorAssert.Equal(new long[] { 0, 1 }, v[..2]);
        TensorAssert.Equal(new long[] { 3, 4, 5 }, x[1..], [1, 3]);
        Assert.Equal(9, v[9].ToInt64());
    }

    [Fact]
    public void IndexSelectGatherScatter()
    {
        using var scope = DisposeScope.Open();
        var x = Grid();
        TensorAssert.Equal(new long[] { 2, 0, 5, 3 }, x.IndexSelect(1, Make.I64([2, 0])), [2, 2]);
        TensorAssert.Equal(new long[] { 3, 4, 5, 3, 4, 5 }, x.IndexSelect(0, Make.I64([1, 1])), [2, 3]);

        // out[i][j] = src[i][index[i][j]]
        var src = Make.F32([1, 2, 3, 4], 2, 2);
        TensorAssert.Equal(new[] { 1f, 1f, 4f, 3f }, src.Gather(1, Make.I64([0, 0, 1, 0], 2, 2)), [2, 2]);
        // out[i][j] = src[index[i][j]][j]
        TensorAssert.Equal(new[] { 3f, 2f }, src.Gather(0, Make.I64([1, 0], 1, 2)), [1, 2]);

        // self[i][index[i][j]] = src[i][j]
        var target = Tensor.Zeros([2, 3]);
        var scattered = target.Scatter(1, Make.I64([2, 0, 1, 2], 2, 2), src);
        TensorAssert.Equal(new[] { 2f, 0f, 1f, 0f, 3f, 4f }, scattered, [2, 3]);
        TensorAssert.Equal(new float[6], target); // not in place

        var added = Tensor.Zeros([3]).ScatterAdd(0, Make.I64([0, 2, 0, 0]), Make.F32([1, 2, 3, 4]));
        TensorAssert.Equal(new[] { 8f, 0f, 2f }, added);
    }

    [Fact]
    public void MaskedSelect()
    {
        using var scope = DisposeScope.Open();
        var x = Grid();
        TensorAssert.Equal(new long[] { 3, 4, 5 }, x.MaskedSelect(x.Gt(2)), [3]);
        // The mask broadcasts over rows.
        TensorAssert.Equal(new long[] { 0, 2, 3, 5 }, x.MaskedSelect(Make.Bool([true, false, true])), [4]);
    }

    [Fact]
    public void CatAndStack()
    {
        using var scope = DisposeScope.Open();
        var a = Make.F32([1, 2], 1, 2);
        var b = Make.F32([3, 4, 5, 6], 2, 2);
        TensorAssert.Equal(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, Tensor.Cat([a, b]), [3, 2]);
        var c = Make.F32([1, 2], 2, 1);
        TensorAssert.Equal(new[] { 1f, 3f, 4f, 2f, 5f, 6f }, Tensor.Cat([c, b], 1), [2, 3]);
        TensorAssert.Equal(new[] { 1f, 3f, 4f, 2f, 5f, 6f }, Tensor.Cat([c, b], -1), [2, 3]);

        var p = Make.F32([1, 2]);
        var q = Make.F32([3, 4]);
        TensorAssert.Equal(new[] { 1f, 2f, 3f, 4f }, Tensor.Stack([p, q]), [2, 2]);
        TensorAssert.Equal(new[] { 1f, 3f, 2f, 4f }, Tensor.Stack([p, q], 1), [2, 2]);
    }

    [Fact]
    public void ExpandSqueezeUnsqueezeFlatten()
    {
        using var scope = DisposeScope.Open();
        var col = Make.F32([1, 2], 2, 1);
        TensorAssert.Equal(new[] { 1f, 1f, 1f, 2f, 2f, 2f }, col.Expand(2, 3), [2, 3]);
        TensorAssert.Equal(new[] { 1f, 1f, 2f, 2f }, col.Expand(-1, 2), [2, 2]);
        TensorAssert.Equal(new[] { 1f, 2f, 1f, 2f }, col.Expand(2, 2, 1), [2, 2, 1]);
        Assert.Throws<TorchException>(() => col.Expand(3, 1));

        var z = Tensor.Zeros([2, 1, 3]);
        Assert.Equal([2L, 3L], z.Squeeze(1).Shape);
        Assert.Equal([2L, 1L, 3L], z.Squeeze(0).Shape); // size 2: unchanged
        Assert.Equal([1L, 2L, 1L, 3L], z.Unsqueeze(0).Shape);
        Assert.Equal([2L, 1L, 3L, 1L], z.Unsqueeze(-1).Shape);

        var f = Tensor.Zeros([2, 3, 4]);
        Assert.Equal([24L], f.Flatten().Shape);
        Assert.Equal([2L, 12L], f.Flatten(1).Shape);
        Assert.Equal([6L, 4L], f.Flatten(0, 1).Shape);
        TensorAssert.Equal(new long[] { 0, 1, 2, 3, 4, 5 }, Grid().Flatten());
    }

    [Fact]
    public void RepeatInterleave()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F32([1, 2, 3, 4], 2, 2);
        TensorAssert.Equal(new[] { 1f, 2f, 1f, 2f, 3f, 4f, 3f, 4f }, x.RepeatInterleave(2, 0), [4, 2]);
        TensorAssert.Equal(new[] { 1f, 1f, 2f, 2f, 3f, 3f, 4f, 4f }, x.RepeatInterleave(2, 1), [2, 4]);
    }

    [Fact]
    public void TriuTril()
    {
        using var scope = DisposeScope.Open();
        var ones = Tensor.Ones([3, 3]);
        TensorAssert.Equal(new[] { 1f, 1, 1, 0, 1, 1, 0, 0, 1 }, ones.Triu());
        TensorAssert.Equal(new[] { 0f, 1, 1, 0, 0, 1, 0, 0, 0 }, ones.Triu(1));
        TensorAssert.Equal(new[] { 1f, 0, 0, 1, 1, 0, 1, 1, 1 }, ones.Tril());
        TensorAssert.Equal(new[] { 0f, 0, 0, 1, 0, 0, 1, 1, 0 }, ones.Tril(-1));
        // Batched: applies to the last two dimensions.
        TensorAssert.Equal(new[] { 1f, 0, 1, 1, 1, 0, 1, 1 }, Tensor.Ones([2, 2, 2]).Tril(), [2, 2, 2]);
    }

    [Fact]
    public void WhereAndMaskedFill()
    {
        using var scope = DisposeScope.Open();
        var cond = Make.Bool([true, false, true]);
        TensorAssert.Equal(new[] { 1f, 20f, 3f }, Tensor.Where(cond, Make.F32([1, 2, 3]), Make.F32([10, 20, 30])));
        // b broadcasts from a scalar-shaped tensor
        TensorAssert.Equal(new[] { 1f, 0f, 3f }, Tensor.Where(cond, Make.F32([1, 2, 3]), Tensor.Zeros([1])));

        var x = Make.F32([1, 2, 3, 4], 2, 2);
        TensorAssert.Equal(new[] { 1f, -9f, 3f, 4f }, x.MaskedFill(Make.Bool([false, true, false, false], 2, 2), -9));
        // the mask broadcasts: a [2] mask applies to every row
        TensorAssert.Equal(new[] { float.NegativeInfinity, 2f, float.NegativeInfinity, 4f },
            x.MaskedFill(Make.Bool([true, false]), double.NegativeInfinity));
        TensorAssert.Equal(new[] { 1f, 2f, 3f, 4f }, x); // not in place
    }
}
