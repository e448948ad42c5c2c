using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Runtime;

public class DisposeScopeTests
{
    [Fact]
    public void TensorsCreatedInAScopeAreDisposedWithIt()
    {
        using var outer = DisposeScope.Open();
        Tensor a, b, sum;
        using (var scope = DisposeScope.Open())
        {
            a = Tensor.Ones([2]);
            b = Tensor.Ones([2]);
            sum = a + b;
            var (values, indices) = sum.Max(0);
            Assert.Equal(5, scope.Count);
            Assert.False(values.IsDisposed || indices.IsDisposed);
        }
        Assert.True(a.IsDisposed);
        Assert.True(b.IsDisposed);
        Assert.True(sum.IsDisposed);
        Assert.Equal(0, outer.Count);
    }

    [Fact]
    public void NestedScopesOwnTheirOwnTensors()
    {
        using var outer = DisposeScope.Open();
        Assert.Same(outer, DisposeScope.Current);
        var kept = Tensor.Ones([1]);
        Tensor inner;
        using (var scope = DisposeScope.Open())
        {
            Assert.Same(scope, DisposeScope.Current);
            Assert.Same(outer, scope.Outer);
            inner = kept * 2; // created in the inner scope even though its input lives outside
            Assert.Equal(1, scope.Count);
            Assert.Equal(1, outer.Count);
        }
        Assert.Same(outer, DisposeScope.Current);
        Assert.True(inner.IsDisposed);
        Assert.False(kept.IsDisposed);
        Assert.Equal(1.0, kept.ToDouble());
    }

    [Fact]
    public void MoveToOuterScopeHandsTheTensorUp()
    {
        using var outer = DisposeScope.Open();
        Tensor result;
        using (var scope = DisposeScope.Open())
        {
            var tmp = Tensor.Ones([2]) * 3;
            result = tmp.Sum().MoveToOuterScope();
            Assert.Equal(2, scope.Count);
            Assert.Equal(1, outer.Count);
        }
        Assert.False(result.IsDisposed);
        Assert.Equal(6.0, result.ToDouble());
        outer.Dispose();
        Assert.True(result.IsDisposed);
        Assert.Null(DisposeScope.Current);
    }

    [Fact]
    public void MoveToOuterScopeFromTheOutermostScopeGivesOwnershipToTheCaller()
    {
        using var first = DisposeScope.Open();
        Tensor t;
        using (var only = DisposeScope.Open())
        {
            // only's outer is "first"; move twice to get past both
            t = Tensor.Ones([1]).MoveToOuterScope();
            Assert.Equal(1, first.Count);
        }
        first.Dispose();
        Assert.True(t.IsDisposed);

        Tensor free;
        using (var solo = DisposeScope.Open())
        {
            Assert.Null(solo.Outer);
            free = Tensor.Ones([1]).MoveToOuterScope();
        }
        Assert.False(free.IsDisposed);
        free.Dispose();
    }

    [Fact]
    public void DetachFromScopeKeepsTheTensorAlive()
    {
        Tensor t;
        using (var scope = DisposeScope.Open())
        {
            t = Tensor.Full([2], 4).DetachFromScope();
            Assert.Equal(0, scope.Count);
        }
        Assert.False(t.IsDisposed);
        TensorAssert.Equal(new[] { 4f, 4f }, t);
        t.Dispose();
        Assert.True(t.IsDisposed);
    }

    [Fact]
    public void TensorsOutsideAnyScopeAreNotTracked()
    {
        Assert.Null(DisposeScope.Current);
        using var t = Tensor.Ones([1]);
        using (var scope = DisposeScope.Open())
        {
            Assert.Equal(0, scope.Count);
        }
        Assert.False(t.IsDisposed);
    }

    [Fact]
    public void DisposingTwiceAndDisposingATensorEarlyAreHarmless()
    {
        var scope = DisposeScope.Open();
        var t = Tensor.Ones([1]);
        t.Dispose();
        Assert.Equal(0, scope.Count);
        scope.Dispose();
        scope.Dispose();
        Assert.Null(DisposeScope.Current);
    }

    [Fact]
    public void ClosingAnOuterScopeClosesTheScopesStillOpenInside()
    {
        var outer = DisposeScope.Open();
        var inner = DisposeScope.Open();
        var a = Tensor.Ones([1]);
        outer.Dispose(); // out of order: inner is still open
        Assert.True(a.IsDisposed);
        Assert.Null(DisposeScope.Current);
        // later tensors are not captured by a dead scope
        using var b = Tensor.Ones([1]);
        inner.Dispose();
        Assert.False(b.IsDisposed);
        Assert.Null(DisposeScope.Current);
    }

    [Fact]
    public void ScopesArePerThread()
    {
        using var scope = DisposeScope.Open();
        DisposeScope? seen = scope;
        Tensor? fromThread = null;
        var thread = new Thread(() =>
        {
            seen = DisposeScope.Current;
            fromThread = Tensor.Ones([1]);
        });
        thread.Start();
        thread.Join();
        Assert.Null(seen);
        Assert.Equal(0, scope.Count);
        fromThread!.Dispose();
    }

    [Fact]
    public void GradAndMaxResultsBelongToTheCurrentScope()
    {
        using var outer = DisposeScope.Open();
        var x = Tensor.Ones([2]).RequiresGradient();
        x.Sum().Backward();
        Tensor g;
        using (var scope = DisposeScope.Open())
        {
            g = x.Grad!;
            Assert.Equal(1, scope.Count);
        }
        Assert.True(g.IsDisposed);
        // disposing a gradient handle does not free the gradient itself
        TensorAssert.Equal(new[] { 1f, 1f }, x.Grad!);
    }

    [Fact]
    public void ModuleParametersOutliveTheScopeTheyWereCreatedIn()
    {
        Nn.Linear layer;
        using (var scope = DisposeScope.Open())
        {
            layer = new Nn.Linear(2, 3, bias: true);
            Assert.Equal(0, scope.Count);
        }
        Assert.False(layer.Weight.IsDisposed);
        Assert.True(layer.Weight.RequiresGrad);
        layer.Dispose();
        Assert.True(layer.Weight.IsDisposed);
        Assert.True(layer.Bias!.IsDisposed);
    }
}
