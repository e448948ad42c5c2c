using FuseChat.Torch;

namespace FuseChat.Torch.Tests;

public class SmokeTests
{
    [Fact]
    public void AddsAndReadsBack()
    {
        using var scope = DisposeScope.Open();
        var a = Tensor.From(new float[] { 1, 2, 3 });
        var b = Tensor.From(new float[] { 10, 20, 30 });
        var c = a + b * 2;
        Assert.Equal(new float[] { 21, 42, 63 }, c.ToArray<float>());
        Assert.Equal(4, scope.Count); // a, b, b * 2 and the sum
    }

    [Fact]
    public void ShapeMismatchBecomesTorchException()
    {
        using var scope = DisposeScope.Open();
        var a = Tensor.Zeros([2, 3]);
        var b = Tensor.Zeros([4, 5]);
        var e = Assert.Throws<TorchException>(() => a.MatMul(b));
        Assert.Contains("cannot be multiplied", e.Message);
    }
}
