using FuseChat.Torch.Optim;

namespace FuseChat.Torch.Tests.Optim;

public class CosineScheduleTests
{
    [Fact]
    public void WarmupThenCosineDecay()
    {
        // peak 1e-3, 10 warmup steps, 110 in all: decay over 100 steps
        var s = new CosineSchedule(1e-3, 10, 110);
        Assert.Equal(0, s.At(0));               // HF: zero at the first step when warming up
        Assert.Equal(1e-4, s.At(1), 15);
        Assert.Equal(5e-4, s.At(5), 15);        // mid-warmup
        Assert.Equal(1e-3, s.At(10), 15);       // peak
        Assert.Equal(1e-3 * 0.5 * (1 + Math.Cos(Math.PI / 4)), s.At(35), 15); // a quarter into the decay
        Assert.Equal(5e-4, s.At(60), 15);       // middle of the decay: cos(π/2) = 0
        Assert.Equal(0, s.At(110), 15);         // end
        Assert.Equal(0, s.At(500), 15);         // stays at the end value
    }

    [Fact]
    public void MinimumRateAndNoWarmup()
    {
        var s = new CosineSchedule(1.0, 0, 100, minLearningRate: 0.1);
        Assert.Equal(1.0, s.At(0), 15);          // no warmup: starts at the peak
        Assert.Equal(0.1 + 0.9 * 0.5, s.At(50), 15);
        Assert.Equal(0.1, s.At(100), 15);
    }

    [Fact]
    public void WarmupRatioRoundsUp()
    {
        var s = CosineSchedule.WithWarmupRatio(1.0, 0.03, 1000);
        Assert.Equal(30, s.WarmupSteps);
        Assert.Equal(1, CosineSchedule.WithWarmupRatio(1.0, 0.03, 10).WarmupSteps);
    }

    [Fact]
    public void RejectsInconsistentSettings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(1, 11, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(1, 0, 0));
        Assert.Throws<ArgumentException>(() => new CosineSchedule(1, 0, 10, minLearningRate: 2));
    }
}
