using FuseChat.Torch.Optim;
using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Optim;

public class GradientClippingTests
{
    // gradients [3, 4] and [12]: global norm √(9 + 16 + 144) = 13
    private static (Tensor A, Tensor B, Tensor NoGrad) Parameters()
    {
        var a = Tensor.Zeros([2]).RequiresGradient();
        var b = Tensor.Zeros([1]).RequiresGradient();
        var c = Tensor.Zeros([1]).RequiresGradient();
        a.Grad = Make.F32([3, 4]);
        b.Grad = Make.F32([12]);
        return (a, b, c);
    }

    [Fact]
    public void ReturnsThePreClipNormAndScalesToMaxNorm()
    {
        using var scope = DisposeScope.Open();
        var (a, b, c) = Parameters();
        var norm = GradientClipping.ClipGradNorm([a, b, c], 6.5);
        Assert.Equal(13, norm, 5);
        // coefficient 6.5 / (13 + 1e-6) ≈ 1/2
        TensorAssert.Close([1.5, 2], a.Grad!, 1e-6);
        TensorAssert.Close([6], b.Grad!, 1e-6);
        Assert.Null(c.Grad);
        // the clipped gradients now have norm 6.5
        Assert.Equal(6.5, GradientClipping.ClipGradNorm([a, b, c], 0), 5);
    }

    [Fact]
    public void LeavesSmallGradientsAlone()
    {
        using var scope = DisposeScope.Open();
        var (a, b, _) = Parameters();
        Assert.Equal(13, GradientClipping.ClipGradNorm([a, b], 20), 5);
        TensorAssert.Close([3, 4], a.Grad!, 0);
        TensorAssert.Close([12], b.Grad!, 0);
        // maxNorm 0 only measures
        Assert.Equal(13, GradientClipping.ClipGradNorm([a, b], 0), 5);
        TensorAssert.Close([12], b.Grad!, 0);
    }

    [Fact]
    public void NaNGradientGivesNaN()
    {
        using var scope = DisposeScope.Open();
        var (a, b, _) = Parameters();
        b.Grad = Make.F32([float.NaN]);
        Assert.True(double.IsNaN(GradientClipping.ClipGradNorm([a, b], 1)));
        a.Grad = Make.F32([float.PositiveInfinity, 0]);
        b.Grad = Make.F32([1]);
        Assert.True(double.IsPositiveInfinity(GradientClipping.ClipGradNorm([a, b], 0)));
    }

    [Fact]
    public void Float64GradientsGiveAFullPrecisionNorm()
    {
        using var scope = DisposeScope.Open();
        var a = Tensor.Zeros([2], DType.Float64).RequiresGradient();
        var b = Tensor.Zeros([1], DType.Float64).RequiresGradient();
        a.Grad = Make.F64([0.1, 0.2]);
        b.Grad = Make.F64([0.3]);
        Assert.Equal(Math.Sqrt(0.14), GradientClipping.ClipGradNorm([a, b], 0), 14);
    }

    [Fact]
    public void NoGradientsMeansZeroNorm()
    {
        using var scope = DisposeScope.Open();
        var p = Tensor.Zeros([3]).RequiresGradient();
        Assert.Equal(0, GradientClipping.ClipGradNorm([p], 1));
    }
}
