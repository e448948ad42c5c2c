namespace FuseChat.Torch.Optim;

/// <summary>
/// Linear warmup then cosine decay to <see cref="MinLearningRate"/>, with the step convention of
/// Hugging Face's get_cosine_schedule_with_warmup (the FuseChat authors trained with it):
/// <c>At(s)</c> is the rate for the optimiser step taken after s completed steps.
/// </summary>
public sealed class CosineSchedule
{
    /// <summary>Creates the schedule; <paramref name="warmupSteps"/> may be 0.</summary>
    public CosineSchedule(double peakLearningRate, long warmupSteps, long totalSteps, double minLearningRate = 0)
    {
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "total steps must be at least 1");
        if (warmupSteps < 0 || warmupSteps > totalSteps)
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, $"warmup must be in [0, {totalSteps}]");
        if (peakLearningRate < 0 || minLearningRate < 0 || minLearningRate > peakLearningRate)
            throw new ArgumentException($"need 0 <= min ({minLearningRate}) <= peak ({peakLearningRate}) learning rate");
        PeakLearningRate = peakLearningRate;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
        MinLearningRate = minLearningRate;
    }

    /// <summary>Rate at the end of warmup.</summary>
    public double PeakLearningRate { get; }
    /// <summary>Steps of linear warmup from 0.</summary>
    public long WarmupSteps { get; }
    /// <summary>Steps of the whole run.</summary>
    public long TotalSteps { get; }
    /// <summary>Rate reached at the end.</summary>
    public double MinLearningRate { get; }

    /// <summary>A warmup of <paramref name="ratio"/> of the run (the paper: 3%).</summary>
    public static CosineSchedule WithWarmupRatio(double peak, double ratio, long totalSteps, double min = 0) =>
        new(peak, (long)Math.Ceiling(ratio * totalSteps), totalSteps, min);

    /// <summary>The learning rate after <paramref name="completedSteps"/> optimiser steps.</summary>
    public double At(long completedSteps)
    {
        if (completedSteps < WarmupSteps) return PeakLearningRate * completedSteps / Math.Max(1, WarmupSteps);
        var progress = (double)(completedSteps - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        var cosine = 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
        return MinLearningRate + (PeakLearningRate - MinLearningRate) * cosine;
    }
}
