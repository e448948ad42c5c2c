using FuseChat.Torch.Nn;
using FuseChat.Torch.Optim;
using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Runtime;

public class TrainingTests
{
    private sealed class TinyLm : Module
    {
        public TinyLm(long vocab, long dim)
        {
            Embed = RegisterModule("embed", new Embedding(vocab, dim));
            Norm = RegisterModule("norm", new RmsNorm(dim));
            Head = RegisterModule("head", new Linear(dim, vocab, bias: true, std: 0.1));
        }

        public Embedding Embed { get; }
        public RmsNorm Norm { get; }
        public Linear Head { get; }

        public Tensor Forward(Tensor ids)
        {
            using var e = Embed.Forward(ids);
            using var n = Norm.Forward(e);
            return Head.Forward(n);
        }
    }

    [Fact]
    public void NextTokenLossFalls()
    {
        using var scope = DisposeScope.Open();
        // next token of a fixed cyclic sequence 0 1 2 ... 7 0 1 ...
        var ids = Tensor.Arange(0, 8);
        var targets = Make.I64([1, 2, 3, 4, 5, 6, 7, 0]);
        using var model = new TinyLm(8, 16);
        Assert.Equal(8 * 16 + 16 + 16 * 8 + 8, model.ParameterCount());
        Assert.Equal(["embed.weight", "norm.weight", "head.weight", "head.bias"], model.NamedParameters().Select(p => p.Name));
        using var opt = new AdamW(model.Parameters(), new AdamWOptions { LearningRate = 1e-2, WeightDecay = 0 });

        double initial = 0, final = 0;
        for (var step = 0; step < 200; step++)
        {
            using var stepScope = DisposeScope.Open();
            var loss = Functional.CrossEntropy(model.Forward(ids), targets);
            if (step == 0) initial = loss.ToDouble();
            final = loss.ToDouble();
            loss.Backward();
            opt.Step();
            opt.ZeroGrad();
        }
        // an untrained model is near uniform: ln 8 ≈ 2.08
        Assert.InRange(initial, 1.5, 2.7);
        Assert.True(final < 0.5 * initial, $"loss went from {initial} to {final}");
        // the parameters survived every step scope
        Assert.All(model.Parameters(), p => Assert.False(p.IsDisposed));
        using var predicted = model.Forward(ids).ArgMax(-1);
        TensorAssert.Equal(new long[] { 1, 2, 3, 4, 5, 6, 7, 0 }, predicted);
    }

    [Fact]
    public void MlpRegressionWithSwiGluLossFalls()
    {
        using var scope = DisposeScope.Open();
        // fit y = sin(x0) + x1² on a fixed grid with a SwiGLU block
        var xs = Make.Det([32, 2], 0.3, 1.5).To(DType.Float32);
        var x0 = xs.Select(1, 0);
        var x1 = xs.Select(1, 1);
        var ys = (x0.Sin() + x1.Square()).Unsqueeze(1);
        using var gate = new Linear(2, 16, std: 0.5);
        using var up = new Linear(2, 16, std: 0.5);
        using var down = new Linear(16, 1, std: 0.5);
        using var opt = new AdamW([.. gate.Parameters(), .. up.Parameters(), .. down.Parameters()],
            new AdamWOptions { LearningRate = 2e-2, WeightDecay = 0 });
        double initial = 0, final = 0;
        for (var step = 0; step < 200; step++)
        {
            using var stepScope = DisposeScope.Open();
            var prediction = Functional.SwiGlu(xs, gate.Weight, up.Weight, down.Weight);
            var loss = (prediction - ys).Square().Mean();
            if (step == 0) initial = loss.ToDouble();
            final = loss.ToDouble();
            loss.Backward();
            GradientClipping.ClipGradNorm(opt.Parameters, 1.0);
            opt.Step();
            opt.ZeroGrad();
        }
        Assert.True(final < 0.5 * initial, $"loss went from {initial} to {final}");
    }
}
