using FuseChat.Testing.Support;
using FuseChat.Torch.Optim;
using FuseChat.Torch.Tests.Support;
using Xunit.Abstractions;

namespace FuseChat.Torch.Tests.Runtime;

[Collection(SerialCollection.Name)]
public class MemoryTests(ITestOutputHelper output)
{
    private static long SettledResidentKiB() => ProcessMemory.SettledResidentBytes() / 1024;

    [Fact]
    public void TenThousandTrainingStepsKeepResidentMemoryFlat()
    {
        using var scope = DisposeScope.Open();
        var embed = Make.Det([16, 8], 0.1).To(DType.Float32).RequiresGradient();
        var head = Make.Det([16, 8], 0.7).To(DType.Float32).RequiresGradient();
        var bias = Tensor.Zeros([16]).RequiresGradient();
        var ids = Make.I64([3, 1, 4, 1, 5, 9, 2, 6]);
        var targets = Make.I64([1, 4, 1, 5, 9, 2, 6, 5]);
        using var opt = new AdamW([embed, head, bias], new AdamWOptions { LearningRate = 1e-3 });
        var schedule = new CosineSchedule(1e-3, 100, 10_000);
        var baseline = scope.Count;

        void Step(int i)
        {
            using var stepScope = DisposeScope.Open();
            var logits = Functional.Linear(Functional.Embedding(embed, ids).Gelu(), head, bias);
            var loss = Functional.CrossEntropy(logits, targets);
            loss.Backward();
            GradientClipping.ClipGradNorm(opt.Parameters, 1.0);
            opt.LearningRate = schedule.At(i);
            opt.Step();
            opt.ZeroGrad();
            Assert.Equal(baseline, scope.Count); // nothing leaked into the outer scope
        }

        for (var i = 0; i < 500; i++) Step(i);
        var before = SettledResidentKiB();
        for (var i = 500; i < 10_000; i++) Step(i);
        var after = SettledResidentKiB();

        output.WriteLine($"VmRSS after warmup: {before} KiB, after 10,000 steps: {after} KiB, growth {after - before} KiB");
        Console.WriteLine($"[memory] VmRSS after warmup {before} KiB, after 10000 steps {after} KiB, growth {after - before} KiB");
        Assert.True(after - before < 20 * 1024, $"resident memory grew by {(after - before) / 1024.0:F1} MiB");
        Assert.Equal(10_000, opt.StepCount);
    }

    [Fact]
    public void ManuallyDisposedTensorsAreNotHeldByALongLivedScope()
    {
        // A generation loop inside one scope that disposes its tensors as it goes must not grow the heap.
        using var scope = DisposeScope.Open();
        var x = Tensor.Ones([1]);
        void Run(int n)
        {
            for (var i = 0; i < n; i++)
            {
                using var y = x + 1;
            }
        }
        Run(20_000);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        Run(200_000);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"managed heap {before} -> {after} bytes");
        Assert.True(after - before < 1_000_000, $"managed heap grew by {after - before} bytes over 200,000 disposed tensors");
        Assert.Equal(1, scope.Count);
    }
}
