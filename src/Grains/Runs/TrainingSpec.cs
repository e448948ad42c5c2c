namespace FuseChat.Grains.Runs;

/// <summary>Stage 3 settings (YAML section <c>training</c>); defaults are the paper's.</summary>
public sealed record TrainingSpec
{
    /// <summary><c>lr</c>: peak learning rate.</summary>
    public double LearningRate { get; init; } = 5e-6;

    /// <summary><c>epochs</c>.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary><c>accumulation</c>: micro-batches per optimiser step.</summary>
    public int Accumulation { get; init; } = 1;

    /// <summary><c>lambda</c>: weight of the CE term in the fusion loss, 0 to 1.</summary>
    public double Lambda { get; init; } = 0.9;

    /// <summary><c>warmup</c>: fraction of the steps spent warming up, 0 to 1.</summary>
    public double Warmup { get; init; } = 0.03;

    /// <summary><c>checkpoint_every</c>: optimiser steps between checkpoints; 0 = only at the end.</summary>
    public int CheckpointEvery { get; init; } = 100;

    /// <summary><c>dtype</c>: parameter dtype (f32, bf16).</summary>
    public string Dtype { get; init; } = "f32";

    /// <summary>
    /// <c>gradient_checkpointing</c>: recompute each layer in the backward pass instead of keeping its activations
    /// (the paper's setting for 7B models; about a third more compute, far less memory). Off by default.
    /// </summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>
    /// <c>optimizer_offload</c>: on a GPU, keep AdamW's fp32 masters and moments (12 bytes per parameter) in host memory
    /// and update there, so that the GPU holds only weights, gradients and activations. Off by default; no effect on
    /// a CPU silo.
    /// </summary>
    public bool OptimizerOffload { get; init; }
}
