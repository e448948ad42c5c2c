using FuseChat.Torch.Optim;
using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Optim;

public class AdamWTests
{
    private static readonly AdamWOptions Options = new()
    {
        LearningRate = 0.1, Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8, WeightDecay = 0.1,
    };

    /// <summary>torch.optim.AdamW's update, written out element by element.</summary>
    private sealed class Reference(double[] p)
    {
        public readonly double[] P = (double[])p.Clone();
        private readonly double[] m = new double[p.Length];
        private readonly double[] v = new double[p.Length];
        private int t;

        public void Step(double[] g, AdamWOptions o)
        {
            t++;
            for (var i = 0; i < P.Length; i++)
            {
                P[i] *= 1 - o.LearningRate * o.WeightDecay;
                m[i] = o.Beta1 * m[i] + (1 - o.Beta1) * g[i];
                v[i] = o.Beta2 * v[i] + (1 - o.Beta2) * g[i] * g[i];
                var mHat = m[i] / (1 - Math.Pow(o.Beta1, t));
                var vHat = v[i] / (1 - Math.Pow(o.Beta2, t));
                P[i] -= o.LearningRate * mHat / (Math.Sqrt(vHat) + o.Epsilon);
            }
        }
    }

    [Fact]
    public void OneStepMatchesTheFormula()
    {
        using var scope = DisposeScope.Open();
        var p1 = Make.F64([1.0, -2.0]).RequiresGradient();
        var p2 = Make.F64([0.5]).RequiresGradient();
        using var opt = new AdamW([p1, p2], Options);
        p1.Grad = Make.F64([0.1, -0.3]);
        p2.Grad = Make.F64([2.0]);
        opt.Step();
        Assert.Equal(1, opt.StepCount);

        // Step 1 by hand: p·(1 - 0.01), then m̂ = g, v̂ = g², so the update is lr·g/(|g| + eps) ≈ ±0.1.
        var r1 = new Reference([1.0, -2.0]);
        r1.Step([0.1, -0.3], Options);
        var r2 = new Reference([0.5]);
        r2.Step([2.0], Options);
        Assert.Equal(0.99 - 0.1 * 0.1 / (0.1 + 1e-8), r1.P[0], 15);
        TensorAssert.Close(r1.P, p1, 1e-14);
        TensorAssert.Close(r2.P, p2, 1e-14);
        // the optimiser does not take the gradient away, and parameters stay leaves that require grad
        Assert.NotNull(p1.Grad);
        Assert.True(p1.RequiresGrad);
        Assert.True(p1.IsLeaf);
    }

    [Fact]
    public void TwoStepsMatchTheFormula()
    {
        using var scope = DisposeScope.Open();
        var p1 = Make.F64([1.0, -2.0]).RequiresGradient();
        var p2 = Make.F64([0.5]).RequiresGradient();
        using var opt = new AdamW([p1, p2], Options);
        var r1 = new Reference([1.0, -2.0]);
        var r2 = new Reference([0.5]);

        double[][] g1 = [[0.1, -0.3], [-0.2, 0.4]];
        double[][] g2 = [[2.0], [1.0]];
        for (var step = 0; step < 2; step++)
        {
            p1.Grad = Make.F64(g1[step]);
            p2.Grad = Make.F64(g2[step]);
            opt.Step();
            r1.Step(g1[step], Options);
            r2.Step(g2[step], Options);
        }
        TensorAssert.Close(r1.P, p1, 1e-14);
        TensorAssert.Close(r2.P, p2, 1e-14);
        // the moments are the optimiser's state
        TensorAssert.Close([0.9 * 0.1 * 0.1 + 0.1 * -0.2, 0.9 * 0.1 * -0.3 + 0.1 * 0.4], opt.ExpAvg[0], 1e-14);
        TensorAssert.Close([0.999 * 0.001 * 4 + 0.001 * 1], opt.ExpAvgSq[1], 1e-14);
    }

    [Fact]
    public void GradientsFromBackwardAndFloat32()
    {
        using var scope = DisposeScope.Open();
        var p = Make.F32([1.0f, -2.0f]).RequiresGradient();
        var opt = new AdamW([p], Options with { WeightDecay = 0 });
        // loss = Σ p², gradient 2p = [2, -4]
        (p * p).Sum().Backward();
        opt.Step();
        var r = new Reference([1.0, -2.0]);
        r.Step([2, -4], Options with { WeightDecay = 0 });
        TensorAssert.Close(r.P, p, 1e-6);
        Assert.Null(opt.MasterWeights[0]);
        opt.ZeroGrad();
        Assert.Null(p.Grad);
        opt.Dispose();
    }

    [Fact]
    public void ParametersWithoutGradientsAreLeftAlone()
    {
        using var scope = DisposeScope.Open();
        var used = Make.F64([1.0]).RequiresGradient();
        var unused = Make.F64([5.0]).RequiresGradient();
        using var opt = new AdamW([used, unused], Options);
        used.Grad = Make.F64([1.0]);
        opt.Step();
        TensorAssert.Close([5.0], unused, 0); // not even weight decay
        TensorAssert.Close([0.0], opt.ExpAvg[1], 0);
        Assert.NotEqual(1.0, used.ToDouble());
    }

    [Fact]
    public void BFloat16ParametersAccumulateInFloat32Masters()
    {
        using var scope = DisposeScope.Open();
        var p = Tensor.Ones([1], DType.BFloat16).RequiresGradient();
        using var opt = new AdamW([p], new AdamWOptions { LearningRate = 1e-3, WeightDecay = 0 });
        var master = opt.MasterWeights[0];
        Assert.NotNull(master);
        Assert.Equal(DType.Float32, master.DType);
        Assert.Equal(DType.Float32, opt.ExpAvg[0].DType);

        // In bf16, 1 - 0.001 rounds back to 1 (the spacing below 1 is 2^-8): a plain bf16 update would vanish.
        using (var naive = Tensor.Ones([1], DType.BFloat16) - 1e-3)
            Assert.Equal(1.0, naive.ToDouble());

        // With a constant gradient each Adam step moves by lr/(1 + eps).
        p.Grad = Tensor.Ones([1], DType.BFloat16);
        opt.Step();
        Assert.Equal(1.0, p.ToDouble());
        Assert.Equal(1 - 1e-3, master.ToDouble(), 6);

        for (var i = 1; i < 10; i++)
        {
            p.Grad = Tensor.Ones([1], DType.BFloat16);
            opt.Step();
        }
        Assert.Equal(0.99, master.ToDouble(), 5);
        // 0.99 in bf16 is 0.98828125 (253/256); the parameter mirrors the master
        Assert.Equal(0.98828125, p.ToDouble());
        Assert.Equal(DType.BFloat16, p.DType);
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.BFloat16)]
    public void StateOnAnotherDeviceHoldsAMasterOfEveryParameterAndTakesTheSameSteps(DType dtype)
    {
        using var scope = DisposeScope.Open();
        var values = Enumerable.Range(0, 64).Select(i => (float)Math.Sin(i)).ToArray();
        var inPlace = Tensor.From<float>(values, [8, 8]).To(dtype).RequiresGradient();
        var offloaded = Tensor.From<float>(values, [8, 8]).To(dtype).RequiresGradient();
        var options = new AdamWOptions { LearningRate = 1e-2, WeightDecay = 0.1 };
        using var plain = new AdamW([inPlace], options);
        // The CPU is the only device here: the state device is the parameters' own, but the offload code path runs
        // (an fp32 master for an fp32 parameter, gradients brought to the state, weights copied back).
        using var offload = new AdamW([offloaded], options with { StateDevice = Device.Cpu });

        var master = offload.MasterWeights[0];
        Assert.NotNull(master);
        Assert.Equal(DType.Float32, master.DType);
        Assert.Equal(Device.Cpu, master.Device);
        Assert.Equal(DType.Float32, offload.ExpAvg[0].DType);
        Assert.Equal(dtype == DType.Float32, plain.MasterWeights[0] is null);

        for (var step = 0; step < 5; step++)
        {
            using var stepScope = DisposeScope.Open();
            foreach (var p in new[] { inPlace, offloaded })
                (p.To(DType.Float32) * p.To(DType.Float32) * Tensor.From<float>(values, [8, 8])).Sum().Backward();
            plain.Step();
            offload.Step();
            plain.ZeroGrad();
            offload.ZeroGrad();
        }

        Assert.Equal(inPlace.To(DType.Float32).ToArray<float>(), offloaded.To(DType.Float32).ToArray<float>());
        Assert.Equal(plain.ExpAvgSq[0].ToArray<float>(), offload.ExpAvgSq[0].ToArray<float>());
        // The master is a copy, not the parameter's storage: overwriting the parameter leaves it alone.
        using (NoGradScope.Enter()) offloaded.CopyFrom(Tensor.Zeros([8, 8], dtype));
        Assert.NotEqual(0, master.Abs().Sum().ToDouble());
    }

    [Fact]
    public void RejectsIntegerParametersAndBadOptions()
    {
        using var scope = DisposeScope.Open();
        Assert.Throws<ArgumentException>(() => new AdamW([Make.I64([1])]));
        Assert.Throws<ArgumentException>(() => new AdamW([Make.F32([1])], new AdamWOptions { Beta1 = 1 }));
        Assert.Throws<ArgumentException>(() => new AdamW([Make.F32([1])], new AdamWOptions { Epsilon = 0 }));
    }
}
