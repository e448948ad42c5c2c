using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Autograd;

public class AutogradTests
{
    [Fact]
    public void RequiresGradAndLeafness()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F64([1, 2]);
        Assert.False(x.RequiresGrad);
        Assert.True(x.IsLeaf);
        Assert.Same(x, x.RequiresGradient());
        Assert.True(x.RequiresGrad);
        var y = x * 2;
        Assert.True(y.RequiresGrad);
        Assert.False(y.IsLeaf);
        var c = Make.F64([3, 4]);
        Assert.False((c * 2).RequiresGrad);
        x.RequiresGrad = false;
        Assert.False(x.RequiresGrad);
        // integer tensors cannot require gradients
        Assert.Throws<TorchException>(() => Make.I64([1]).RequiresGrad = true);
    }

    [Fact]
    public void BackwardFillsGrad()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F64([1, 2, 3]).RequiresGradient();
        Assert.Null(x.Grad);
        // d/dx sum(x² + 3x) = 2x + 3
        var loss = (x * x + x * 3).Sum();
        loss.Backward();
        TensorAssert.Close([5, 7, 9], x.Grad!, 0);
        // backward of a non-scalar needs an explicit gradient
        var y = x * 2;
        Assert.Throws<TorchException>(() => y.Backward());
        y.Backward(Make.F64([1, 0, -1]));
        TensorAssert.Close([7, 7, 7], x.Grad!, 0);
    }

    [Fact]
    public void GradientsAccumulateOverBackwardCalls()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F64([1, -2]).RequiresGradient();
        (x * x).Sum().Backward();
        (x * x).Sum().Backward();
        TensorAssert.Close([4, -8], x.Grad!, 0);

        // retainGraph lets one graph be walked twice
        var loss = (x * 3).Sum();
        loss.Backward(retainGraph: true);
        loss.Backward();
        TensorAssert.Close([10, -2], x.Grad!, 0);
        // without it, a second walk fails with libtorch's message
        var once = (x * x).Sum();
        once.Backward();
        var e = Assert.Throws<TorchException>(() => once.Backward());
        Assert.Contains("second time", e.Message);
    }

    [Fact]
    public void ZeroGradSetToNoneOrZero()
    {
        using var scope = DisposeScope.Open();
        var a = Make.F64([1, 2]).RequiresGradient();
        var b = Make.F64([3]).RequiresGradient();
        (a.Sum() * b.Sum()).Backward();
        TensorAssert.Close([3, 3], a.Grad!, 0);
        TensorAssert.Close([3], b.Grad!, 0);

        Tensor.ZeroGrad([a, b], setToNone: false);
        TensorAssert.Close([0, 0], a.Grad!, 0);
        TensorAssert.Close([0], b.Grad!, 0);
        // zeroed gradients accumulate from zero
        (a.Sum() * 2).Backward();
        TensorAssert.Close([2, 2], a.Grad!, 0);

        Tensor.ZeroGrad([a, b]);
        Assert.Null(a.Grad);
        Assert.Null(b.Grad);
        // harmless when there is no gradient
        Tensor.ZeroGrad([a, b], setToNone: false);
        Assert.Null(a.Grad);
    }

    [Fact]
    public void GradCanBeSetAndCleared()
    {
        using var scope = DisposeScope.Open();
        var p = Make.F64([1, 2]).RequiresGradient();
        p.Grad = Make.F64([0.5, -0.5]);
        TensorAssert.Close([0.5, -0.5], p.Grad!, 0);
        p.Grad = null;
        Assert.Null(p.Grad);
        // like PyTorch's setter: shape and dtype must match the tensor
        Assert.Contains("different size", Assert.Throws<TorchException>(() => p.Grad = Make.F64([1])).Message);
        Assert.Contains("different type", Assert.Throws<TorchException>(() => p.Grad = Make.F32([1, 1])).Message);
        Assert.Null(p.Grad);
    }

    [Fact]
    public void NoGradScopeDisablesRecordingAndRestores()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F64([1]).RequiresGradient();
        Assert.True(TorchRuntime.IsGradEnabled);
        using (NoGradScope.Enter())
        {
            Assert.False(TorchRuntime.IsGradEnabled);
            Assert.False((x * 2).RequiresGrad);
            using (NoGradScope.Enter())
            {
                Assert.False(TorchRuntime.IsGradEnabled);
            }
            // the inner scope restores "disabled", not "enabled"
            Assert.False(TorchRuntime.IsGradEnabled);
            Assert.False((x + 1).RequiresGrad);
        }
        Assert.True(TorchRuntime.IsGradEnabled);
        Assert.True((x * 2).RequiresGrad);
    }

    [Fact]
    public void GradModeIsPerThread()
    {
        using var noGrad = NoGradScope.Enter();
        Assert.False(TorchRuntime.IsGradEnabled);
        var other = true;
        var thread = new Thread(() => other = TorchRuntime.IsGradEnabled);
        thread.Start();
        thread.Join();
        Assert.True(other);
    }

    [Fact]
    public void DetachCutsHistoryButSharesData()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F64([1, 2]).RequiresGradient();
        var y = x * 3;
        var d = y.Detach();
        Assert.False(d.RequiresGrad);
        Assert.True(d.IsLeaf);
        TensorAssert.Close([3, 6], d, 0);
        // same storage: writing through the detached handle shows in y
        d.FillInPlace(7);
        TensorAssert.Close([7, 7], y, 0);
        // the detached branch contributes no gradient
        (x * d).Sum().Backward();
        TensorAssert.Close([7, 7], x.Grad!, 0);
    }

    [Fact]
    public void CloneKeepsHistory()
    {
        using var scope = DisposeScope.Open();
        var x = Make.F64([2]).RequiresGradient();
        var c = x.Clone();
        Assert.True(c.RequiresGrad);
        (c * c).Sum().Backward();
        TensorAssert.Close([4], x.Grad!, 0);
    }
}
