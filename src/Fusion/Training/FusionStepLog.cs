namespace FuseChat.Fusion.Training;

/// <summary>What the trainer reports after each optimiser step.</summary>
/// <param name="Step">Optimiser steps completed (1 after the first).</param>
/// <param name="TotalSteps">Optimiser steps of the whole run.</param>
/// <param name="Epoch">Zero-based epoch of the step's data.</param>
/// <param name="Loss">Mean total loss over the step's micro-batches.</param>
/// <param name="CrossEntropy">Mean CE part.</param>
/// <param name="Fusion">Mean fusion part.</param>
/// <param name="LearningRate">Learning rate the step used.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
/// <param name="Tokens">Input tokens processed by the step.</param>
/// <param name="TokensPerSecond">Input tokens per second of wall time of the step.</param>
public sealed record FusionStepLog(long Step, long TotalSteps, int Epoch, double Loss, double CrossEntropy, double Fusion,
    double LearningRate, double GradNorm, long Tokens, double TokensPerSecond);
