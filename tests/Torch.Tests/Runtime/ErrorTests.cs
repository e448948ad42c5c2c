using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Runtime;

public class ErrorTests
{
    [Fact]
    public void ShapeMismatchInMatMul()
    {
        using var scope = DisposeScope.Open();
        var e = Assert.Throws<TorchException>(() => Tensor.Zeros([2, 3]).MatMul(Tensor.Zeros([4, 5])));
        Assert.Contains("cannot be multiplied", e.Message);
        Assert.Contains("2x3", e.Message);
        // the C++ backtrace is stripped
        Assert.DoesNotContain("Exception raised from", e.Message);
        // still usable afterwards
        TensorAssert.Close([19, 22, 43, 50], Make.F64([1, 2, 3, 4], 2, 2).MatMul(Make.F64([5, 6, 7, 8], 2, 2)), 0);
    }

    [Fact]
    public void EmbeddingWithFloatIndices()
    {
        using var scope = DisposeScope.Open();
        var e = Assert.Throws<TorchException>(() => Functional.Embedding(Tensor.Zeros([4, 2]), Make.F32([1, 2])));
        Assert.Contains("indices", e.Message);
        Assert.Contains("Float", e.Message);
        TensorAssert.Equal(new[] { 0f, 0f }, Functional.Embedding(Tensor.Zeros([4, 2]), Make.I64([1])).Reshape(-1));
    }

    [Fact]
    public void OutOfRangeSelectAndIndex()
    {
        using var scope = DisposeScope.Open();
        var x = Tensor.Arange(0, 3);
        var e = Assert.Throws<TorchException>(() => x.Select(0, 5));
        Assert.Contains("out of range", e.Message);
        Assert.Throws<TorchException>(() => x.Select(1, 0));
        // embedding rows out of range: a libtorch error, not a crash
        var e2 = Assert.Throws<TorchException>(() => Functional.Embedding(Tensor.Zeros([4, 2]), Make.I64([4])));
        Assert.Contains("out of range", e2.Message);
        Assert.Throws<TorchException>(() => x.Gather(0, Make.I64([7])));
        Assert.Equal(2, x[2].ToInt64());
    }

    [Fact]
    public void OtherLibtorchErrors()
    {
        using var scope = DisposeScope.Open();
        Assert.Throws<TorchException>(() => Tensor.Zeros([2, 3]).Reshape(4));
        Assert.Throws<TorchException>(() => Tensor.Cat([Tensor.Zeros([2, 3]), Tensor.Zeros([2, 4])]));
        Assert.Throws<TorchException>(() => Tensor.Zeros([2]).ToInt64()); // item of a two-element tensor
        Assert.Throws<TorchException>(() => Tensor.Zeros([2]).Clamp());
        Assert.Throws<TorchException>(() => Functional.CrossEntropy(Tensor.Zeros([2, 3]), Make.I64([0, 3])));
        if (!TorchRuntime.IsCudaAvailable) Assert.Throws<TorchException>(() => Tensor.Zeros([1]).To(Device.Cuda()));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros([2]).Size(1));
    }

    [Fact]
    public void DisposedTensorThrowsObjectDisposed()
    {
        using var scope = DisposeScope.Open();
        var x = Tensor.Ones([2]);
        x.Dispose();
        Assert.True(x.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => x.Shape);
        Assert.Throws<ObjectDisposedException>(() => x + x);
        Assert.Throws<ObjectDisposedException>(() => Tensor.Ones([2]) * x);
        Assert.Throws<ObjectDisposedException>(() => x.ToArray<float>());
        Assert.Throws<ObjectDisposedException>(() => Tensor.Cat([Tensor.Ones([1]), x]));
        Assert.Equal("Tensor(disposed)", x.ToString());
        x.Dispose(); // twice is fine
    }

    [Fact]
    public void ErrorSlotIsThreadLocal()
    {
        // Thread A fails, then thread B fails differently, then A reads the slot again: it must still
        // hold A's message. (The binding reads the slot right after each call; here we read it late on purpose.)
        var readSlot = typeof(TorchException).GetMethod("FromNative", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        using var aFailed = new ManualResetEventSlim();
        using var bFailed = new ManualResetEventSlim();
        string? aLate = null, bMessage = null;
        var a = new Thread(() =>
        {
            using var scope = DisposeScope.Open();
            Assert.Throws<TorchException>(() => Tensor.Zeros([2, 3]).MatMul(Tensor.Zeros([4, 5])));
            aFailed.Set();
            bFailed.Wait();
            aLate = ((TorchException)readSlot.Invoke(null, null)!).Message;
        });
        var b = new Thread(() =>
        {
            using var scope = DisposeScope.Open();
            aFailed.Wait();
            bMessage = Assert.Throws<TorchException>(() => Tensor.Arange(0, 3).Select(0, 9)).Message;
            bFailed.Set();
        });
        a.Start();
        b.Start();
        a.Join();
        b.Join();
        Assert.Contains("out of range", bMessage);
        Assert.Contains("cannot be multiplied", aLate);
    }

    [Fact]
    public void ErrorMessagesAreThreadLocal()
    {
        // Two threads fail with different errors at the same time; each must read its own message.
        const int iterations = 50; // each libtorch error costs milliseconds (it captures a C++ backtrace)
        var failures = new string?[2];
        using var start = new Barrier(2);
        var threads = new[]
        {
            new Thread(() => Run(0, () => Tensor.Zeros([2, 3]).MatMul(Tensor.Zeros([4, 5])), "cannot be multiplied")),
            new Thread(() => Run(1, () => Tensor.Arange(0, 3).Select(0, 9), "out of range")),
        };
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Null(failures[0]);
        Assert.Null(failures[1]);

        void Run(int slot, Func<Tensor> fail, string expected)
        {
            using var scope = DisposeScope.Open();
            start.SignalAndWait();
            for (var i = 0; i < iterations; i++)
            {
                try
                {
                    fail();
                    failures[slot] = "no exception";
                    return;
                }
                catch (TorchException e) when (e.Message.Contains(expected, StringComparison.Ordinal))
                {
                }
                catch (Exception e)
                {
                    failures[slot] = $"iteration {i}: {e.GetType().Name}: {e.Message}";
                    return;
                }
            }
        }
    }
}
