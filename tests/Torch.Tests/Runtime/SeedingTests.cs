using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Runtime;

[Collection(SerialCollection.Name)]
public class SeedingTests
{
    [Fact]
    public void ManualSeedRepeatsTheSequence()
    {
        using var scope = DisposeScope.Open();
        TorchRuntime.ManualSeed(1234);
        var a = Tensor.Randn([16]).ToArray<float>();
        var a2 = Tensor.Rand([4]).ToArray<float>();
        TorchRuntime.ManualSeed(1234);
        var b = Tensor.Randn([16]).ToArray<float>();
        var b2 = Tensor.Rand([4]).ToArray<float>();
        Assert.Equal(a, b);
        Assert.Equal(a2, b2);
        TorchRuntime.ManualSeed(1235);
        Assert.NotEqual(a, Tensor.Randn([16]).ToArray<float>());
    }

    [Fact]
    public void RngStateReplays()
    {
        using var scope = DisposeScope.Open();
        TorchRuntime.ManualSeed(7);
        _ = Tensor.Randn([3]);
        var state = TorchRuntime.GetRngState();
        Assert.NotEmpty(state);
        var first = Tensor.Randn([8]).ToArray<float>();
        var ints = Tensor.RandInt(0, 1000, [8]).ToArray<long>();
        var next = Tensor.Randn([8]).ToArray<float>();
        Assert.NotEqual(first, next);

        TorchRuntime.SetRngState(state);
        Assert.Equal(first, Tensor.Randn([8]).ToArray<float>());
        Assert.Equal(ints, Tensor.RandInt(0, 1000, [8]).ToArray<long>());
        Assert.Equal(next, Tensor.Randn([8]).ToArray<float>());
        Assert.Throws<TorchException>(() => TorchRuntime.SetRngState([1, 2, 3]));
    }

    [Fact]
    public void SeededInitialisationIsReproducible()
    {
        using var scope = DisposeScope.Open();
        TorchRuntime.ManualSeed(99);
        using var a = new Nn.Linear(4, 3);
        TorchRuntime.ManualSeed(99);
        using var b = new Nn.Linear(4, 3);
        Assert.Equal(a.Weight.ToArray<float>(), b.Weight.ToArray<float>());
        // std 0.02 as requested
        var std = Math.Sqrt(a.Weight.ToArray<float>().Select(w => (double)w * w).Average());
        Assert.InRange(std, 0.005, 0.05);
    }
}
