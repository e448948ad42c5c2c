namespace FuseChat.Torch.Optim;

/// <summary>Hyper-parameters of <see cref="AdamW"/> (torch.optim.AdamW defaults).</summary>
public sealed record AdamWOptions
{
    /// <summary>Step size before scheduling.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Decay of the first-moment estimate.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Decay of the second-moment estimate.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Added to the denominator for stability.</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Decoupled weight decay (multiplies the parameter by 1 - lr·wd each step).</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>
    /// Where the optimiser state lives: null keeps it with each parameter; a device (the CPU, for a model on a GPU)
    /// keeps an fp32 master copy of every parameter and both moments there, so the parameters' device holds only
    /// the weights and their gradients (ZeRO-Offload's split: 12 bytes per parameter move to host memory). Each step
    /// then copies the gradients over, updates there, and copies the new weights back.
    /// </summary>
    public Device? StateDevice { get; init; }

    /// <summary>Throws when a value is out of range, naming it.</summary>
    public void Validate()
    {
        if (!(LearningRate >= 0)) throw new ArgumentException($"learning rate must be >= 0, got {LearningRate}");
        if (!(Beta1 is >= 0 and < 1)) throw new ArgumentException($"beta1 must be in [0, 1), got {Beta1}");
        if (!(Beta2 is >= 0 and < 1)) throw new ArgumentException($"beta2 must be in [0, 1), got {Beta2}");
        if (!(Epsilon > 0)) throw new ArgumentException($"epsilon must be > 0, got {Epsilon}");
        if (!(WeightDecay >= 0)) throw new ArgumentException($"weight decay must be >= 0, got {WeightDecay}");
    }
}
