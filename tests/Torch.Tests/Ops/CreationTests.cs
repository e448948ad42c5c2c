using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Ops;

public class CreationTests
{
    [Fact]
    public void ZerosOnesFull()
    {
        using var scope = DisposeScope.Open();
        var z = Tensor.Zeros([2, 3]);
        TensorAssert.Equal(new float[6], z, [2, 3]);
        var o = Tensor.Ones([2], DType.Int64);
        TensorAssert.Equal(new long[] { 1, 1 }, o, [2]);
        var f = Tensor.Full([2, 2], 7.5, DType.Float64);
        TensorAssert.Equal(new[] { 7.5, 7.5, 7.5, 7.5 }, f, [2, 2]);
        var s = Tensor.Scalar(3, DType.Int32);
        Assert.Equal(0, s.Dim);
        Assert.Equal(1, s.NumberOfElements);
        Assert.Equal(3, s.ToInt64());
    }

    [Fact]
    public void ArangeIntegerAndFractionalSteps()
    {
        using var scope = DisposeScope.Open();
        TensorAssert.Equal(new long[] { 0, 1, 2, 3, 4 }, Tensor.Arange(0, 5));
        TensorAssert.Equal(new[] { 1f, 1.25f, 1.5f, 1.75f }, Tensor.Arange(1, 2, 0.25, DType.Float32));
        TensorAssert.Equal(new long[] { 10, 7, 4 }, Tensor.Arange(10, 2, -3));
    }

    [Fact]
    public void FromWithShapeKeepsRowMajorOrder()
    {
        using var scope = DisposeScope.Open();
        var t = Tensor.From<float>([1, 2, 3, 4, 5, 6], [2, 3]);
        Assert.Equal([2L, 3L], t.Shape);
        Assert.Equal(2, t.Dim);
        Assert.Equal(3, t.Size(-1));
        Assert.Equal(6, t.NumberOfElements);
        Assert.Equal(4.0, t[1][0].ToDouble());
        Assert.Throws<ArgumentException>(() => Tensor.From<float>([1, 2, 3], [2, 2]));
    }

    [Fact]
    public void RoundTripsEveryHostType()
    {
        using var scope = DisposeScope.Open();
        TensorAssert.Equal(new[] { 0.1, -1e300, double.Epsilon }, Tensor.From(new[] { 0.1, -1e300, double.Epsilon }));
        TensorAssert.Equal(new[] { 0.1f, -3.5f }, Tensor.From(new[] { 0.1f, -3.5f }));
        TensorAssert.Equal(new[] { int.MinValue, -3, 7 }, Tensor.From(new[] { int.MinValue, -3, 7 }));
        TensorAssert.Equal(new[] { long.MaxValue, -1L }, Tensor.From(new[] { long.MaxValue, -1L }));
        TensorAssert.Equal(new[] { true, false, true }, Tensor.From(new[] { true, false, true }));
        TensorAssert.Equal(new[] { (Half)1.5, (Half)(-0.25) }, Tensor.From(new[] { (Half)1.5, (Half)(-0.25) }));
        Assert.Equal(DType.Float16, Tensor.From(new[] { (Half)1 }).DType);
    }

    [Fact]
    public void ConversionsBetweenDtypes()
    {
        using var scope = DisposeScope.Open();
        // f64 0.1 is not representable in f32: the f32 value is 0.100000001490116...
        var f32 = Tensor.From(new[] { 0.1 }).To(DType.Float32);
        Assert.Equal((double)0.1f, f32.ToDouble());
        Assert.NotEqual(0.1, f32.ToDouble());
        // float -> int truncates toward zero
        TensorAssert.Equal(new long[] { 1, -1, 2 }, Tensor.From(new[] { 1.7f, -1.7f, 2f }).To(DType.Int64));
        TensorAssert.Equal(new[] { -3f, 7f }, Tensor.From(new[] { -3, 7 }).To(DType.Float32));
        TensorAssert.Equal(new[] { true, false, true }, Tensor.From(new[] { 2.0, 0.0, -0.5 }).To(DType.Bool));
        // bool sums as int64
        Assert.Equal(2, Tensor.From(new[] { true, false, true }).Sum().ToInt64());
    }

    [Fact]
    public void BFloat16RoundsToNearestEven()
    {
        using var scope = DisposeScope.Open();
        // bf16 keeps 7 mantissa bits: near 1 the spacing is 2^-7 = 0.0078125.
        // 1 + 2^-8 is halfway between 1 (even mantissa) and 1.0078125: rounds to 1.
        // 1 + 3·2^-8 is halfway between 1.0078125 (odd) and 1.015625 (even): rounds to 1.015625.
        // 1 + 2^-8 + 2^-12 is above halfway: rounds up to 1.0078125.
        var bf = Tensor.From(new[] { 1.00390625f, 1.01171875f, 1.00415039f, 3.0f }).To(DType.BFloat16);
        Assert.Equal(DType.BFloat16, bf.DType);
        Assert.Equal(2, bf.ElementSize);
        TensorAssert.Equal(new[] { 1f, 1.015625f, 1.0078125f, 3f }, bf.To(DType.Float32));

        // f16 keeps 10 mantissa bits: 1 + 2^-11 is halfway and rounds to 1; 1 + 2^-10 is exact.
        var h = Tensor.From(new[] { 1 + 1.0 / 2048, 1 + 1.0 / 1024 }).To(DType.Float16);
        TensorAssert.Equal(new[] { 1.0, 1 + 1.0 / 1024 }, h.To(DType.Float64));
    }

    [Fact]
    public void FromBytesReadsLittleEndianElements()
    {
        using var scope = DisposeScope.Open();
        // bf16 1.0 = 0x3F80, 2.5 = 0x4020, -2 = 0xC000.
        var bf = Tensor.FromBytes([0x80, 0x3F, 0x20, 0x40, 0x00, 0xC0], DType.BFloat16, [3]);
        TensorAssert.Equal(new[] { 1f, 2.5f, -2f }, bf.To(DType.Float32));
        var back = new byte[6];
        bf.CopyBytesTo(back);
        Assert.Equal(new byte[] { 0x80, 0x3F, 0x20, 0x40, 0x00, 0xC0 }, back);

        // f32 1.5 = 0x3FC0_0000, i32 258 = 0x0000_0102
        TensorAssert.Equal(new[] { 1.5f }, Tensor.FromBytes([0x00, 0x00, 0xC0, 0x3F], DType.Float32, [1]));
        TensorAssert.Equal(new[] { 258 }, Tensor.FromBytes([0x02, 0x01, 0x00, 0x00], DType.Int32, [1, 1]).Reshape(-1));
        TensorAssert.Equal(new[] { true, false }, Tensor.FromBytes([1, 0], DType.Bool, [2]));
        Assert.Throws<ArgumentException>(() => Tensor.FromBytes([1, 2, 3], DType.Float32, [1]));
    }

    [Fact]
    public void AsSpanSharesStorage()
    {
        using var scope = DisposeScope.Open();
        var t = Tensor.Zeros([3]);
        t.AsSpan<float>()[1] = 5;
        TensorAssert.Equal(new[] { 0f, 5f, 0f }, t);
        Assert.Throws<InvalidOperationException>(() => t.AsSpan<double>());
        Assert.Throws<InvalidOperationException>(() => t.ToArray<int>());
    }

    [Fact]
    public void LikeConstructorsCopyShapeAndDtype()
    {
        using var scope = DisposeScope.Open();
        var t = Tensor.Full([2, 1], 4, DType.Float64);
        TensorAssert.Equal(new[] { 0.0, 0.0 }, t.ZerosLike(), [2, 1]);
        TensorAssert.Equal(new[] { 1.0, 1.0 }, t.OnesLike(), [2, 1]);
    }
}
