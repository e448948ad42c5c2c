namespace FuseChat.Grains.Planning;

/// <summary>The estimate of a whole run (<see cref="RunCostEstimator"/>).</summary>
/// <param name="Conversations">Training conversations.</param>
/// <param name="Models">The pivot first, then the sources.</param>
/// <param name="Stages">Each stage's share.</param>
/// <param name="TotalFlops">The sum of the stages' operations.</param>
/// <param name="EffectiveTflops">The sustained throughput of one GPU assumed for <paramref name="GpuHours"/>.</param>
/// <param name="GpuHours">TotalFlops at that throughput.</param>
public sealed record RunCost(int Conversations, IReadOnlyList<ModelCost> Models, IReadOnlyList<StageCost> Stages, double TotalFlops,
    double EffectiveTflops, double GpuHours)
{
    /// <summary>training.gradient_checkpointing of the spec.</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>Tokens of the longest training conversation on the pivot's tokenizer: one micro-batch's length.</summary>
    public int LongestConversation { get; init; }

    /// <summary>About the activations of a training step with gradient checkpointing switched the other way.</summary>
    public long AlternativeActivationBytes { get; init; }

    /// <summary>Host memory of the offloaded optimiser state (training.optimizer_offload), per fusion run.</summary>
    public long? OffloadedHostBytes { get; init; }
}
