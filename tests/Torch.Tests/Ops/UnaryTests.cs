using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Ops;

public class UnaryTests
{
    [Fact]
    public void ExpLogSqrtRsqrtAbs()
    {
        using var scope = DisposeScope.Open();
        TensorAssert.Close([1, Math.E, 1 / Math.E], Make.F64([0, 1, -1]).Exp(), 1e-15);
        TensorAssert.Close([0, 1, Math.Log(2)], Make.F64([1, Math.E, 2]).Log(), 1e-15);
        TensorAssert.Close([double.NegativeInfinity], Make.F64([0]).Log());
        TensorAssert.Close([3, 0.5, 0], Make.F64([9, 0.25, 0]).Sqrt(), 1e-15);
        TensorAssert.Close([0.5, 2, 1 / Math.Sqrt(2)], Make.F64([4, 0.25, 2]).Rsqrt(), 1e-15);
        TensorAssert.Close([3, 0, 2.5], Make.F64([-3, 0, 2.5]).Abs(), 0);
        Assert.True(double.IsNaN(Make.F64([-1]).Sqrt().ToDouble()));
    }

    [Fact]
    public void Activations()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F64([-1, 0, 2]);
        TensorAssert.Close([Math.Tanh(-1), 0, Math.Tanh(2)], x.Tanh(), 1e-15);
        TensorAssert.Close([1 / (1 + Math.E), 0.5, 1 / (1 + Math.Exp(-2))], x.Sigmoid(), 1e-15);
        TensorAssert.Close([0, 0, 2], x.Relu(), 0);
        // silu(x) = x·sigmoid(x)
        TensorAssert.Close([-1 / (1 + Math.E), 0, 2 / (1 + Math.Exp(-2))], x.Silu(), 1e-15);
    }

    [Fact]
    public void GeluExactAndTanh()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F64([-1, 0, 1, 2]);
        // exact: x·Φ(x), Φ(1) = 0.841344746068542948..., Φ(2) = 0.977249868051820792...
        TensorAssert.Close([-(1 - 0.8413447460685429), 0, 0.8413447460685429, 2 * 0.9772498680518208], x.Gelu(), 1e-14);
        // tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        static double Approx(double v) => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
        var expected = new[] { Approx(-1), 0, Approx(1), Approx(2) };
        TensorAssert.Close(expected, x.Gelu(tanhApproximation: true), 1e-14);
        // The two differ (0.8413447 vs 0.8411920 at 1): the flag is honoured.
        Assert.True(Math.Abs(x.Gelu().Select(0, 2).ToDouble() - x.Gelu(true).Select(0, 2).ToDouble()) > 1e-4);
    }

    [Fact]
    public void SquareReciprocalSignRounding()
    {
        using var scope = DisposeScope.Open();
        TensorAssert.Close([9, 0.25, 0], Make.F64([-3, 0.5, 0]).Square(), 0);
        TensorAssert.Close([0.25, -2, double.PositiveInfinity], Make.F64([4, -0.5, 0]).Reciprocal(), 0);
        TensorAssert.Close([-1, 0, 1], Make.F64([-2, 0, 0.1]).Sign(), 0);
        TensorAssert.Close([-2, 1], Make.F64([-1.5, 1.5]).Floor(), 0);
        TensorAssert.Close([-1, 2], Make.F64([-1.5, 1.5]).Ceil(), 0);
        TensorAssert.Close([2, 2, -2], Make.F64([2.5, 1.5, -2.5]).Round(), 0); // half to even
    }

    [Fact]
    public void NanInfPredicates()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F32([1, float.NaN, float.PositiveInfinity, float.NegativeInfinity]);
        TensorAssert.Equal(new[] { false, true, false, false }, x.IsNan());
        TensorAssert.Equal(new[] { false, false, true, true }, x.IsInf());
        TensorAssert.Equal(new[] { true, false, false, false }, x.IsFinite());
    }

    [Fact]
    public void Clamp()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F32([-2, 0.5f, 3]);
        TensorAssert.Equal(new[] { -1f, 0.5f, 1f }, x.Clamp(-1, 1));
        TensorAssert.Equal(new[] { 0f, 0.5f, 3f }, x.Clamp(min: 0));
        TensorAssert.Equal(new[] { -2f, 0f, 0f }, x.Clamp(max: 0));
        // a bound of exactly 0 is a real bound, not "absent"
        TensorAssert.Equal(new[] { 0f, 0f, 0f }, x.Clamp(0, 0));
    }
}
