using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FuseChat.Fusion.Models;
using FuseChat.Torch;

namespace FuseChat.Fusion.Training;

/// <summary>
/// Hyper-parameters and checkpointing of a pairwise fusion run. Defaults are the paper's (7B) values
/// where it gives them.
/// </summary>
public sealed record FusionTrainerOptions
{
    /// <summary>Peak AdamW learning rate (paper: 5e-6).</summary>
    public double LearningRate { get; init; } = 5e-6;
    /// <summary>Learning rate at the end of the cosine decay.</summary>
    public double MinLearningRate { get; init; }
    /// <summary>Fraction of all optimiser steps spent in linear warmup (paper: 3%).</summary>
    public double WarmupRatio { get; init; } = 0.03;
    /// <summary>AdamW decoupled weight decay (paper: 0).</summary>
    public double WeightDecay { get; init; }
    /// <summary>AdamW β1.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW β2.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>AdamW ε.</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Passes over the data (paper: 3).</summary>
    public int Epochs { get; init; } = 3;
    /// <summary>Micro-batches per optimiser step; each micro-batch's loss is scaled by 1/N.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>Global gradient-norm clipping threshold; 0 or less only measures the norm.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>λ of the fusion loss (paper: 0.9).</summary>
    public double Lambda { get; init; } = 0.9;
    /// <summary>Temperature of the target softmax (paper: 1).</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>
    /// Recompute each decoder layer in the backward pass instead of keeping its activations (the paper trains with
    /// gradient checkpointing): activation memory drops to one [batch, length, hidden] tensor per layer for about a
    /// third more compute. Not part of <see cref="TrajectoryHash"/>: the gradients are the same (bit for bit on the
    /// CPU), so a run may be resumed with it switched either way.
    /// </summary>
    public bool GradientCheckpointing { get; init; }
    /// <summary>
    /// Trained positions whose logits the output head computes and back-propagates at a time, so that no
    /// [batch, length, vocabulary] tensor exists (<see cref="FusionLoss"/>); null: <see cref="LlamaModel.HeadChunk"/>.
    /// Any value gives the same loss, and the same gradients up to the order of the sums in the head's weight gradient.
    /// Not part of <see cref="TrajectoryHash"/>; the automatic value depends on the vocabulary alone, so a resumed run
    /// chunks as before.
    /// </summary>
    public int? HeadChunkTokens { get; init; }
    /// <summary>
    /// Where AdamW keeps its fp32 master weights and moments: null keeps them with the parameters; the CPU, for a model
    /// on a GPU, moves those 12 bytes per parameter to host memory (optimiser offload), so that the GPU holds only
    /// weights, gradients and activations; each step then copies the gradients to the host and the new weights back.
    /// Not part of <see cref="TrajectoryHash"/>: the update is the same arithmetic wherever it runs (bit for bit when it
    /// runs on the same kind of device), so a run may be resumed with it switched either way.
    /// </summary>
    public Device? OptimizerStateDevice { get; init; }
    /// <summary>
    /// The <see cref="OptimizerStateDevice"/> for a request to offload the optimiser state, for a model on
    /// <paramref name="modelDevice"/>: the CPU for a model on a GPU; null (nothing to move) for a model on the CPU.
    /// </summary>
    public static Device? OffloadTarget(bool offload, Device modelDevice) => offload && modelDevice.Type != DeviceType.Cpu ? Device.Cpu : null;
    /// <summary>Seed of libtorch's generator at the start of a fresh run.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>Folder holding the checkpoint-NNNNNNNN folders; null disables checkpoints.</summary>
    public string? CheckpointFolder { get; init; }
    /// <summary>Optimiser steps between checkpoints; 0 writes only at the end (or when stopped).</summary>
    public int CheckpointEvery { get; init; }
    /// <summary>Completed checkpoints kept; older ones are deleted after a new one is complete (0 keeps all).</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>Throws when a value is out of range, naming it.</summary>
    public void Validate()
    {
        if (!(LearningRate >= 0) || !(MinLearningRate >= 0) || MinLearningRate > LearningRate)
            throw new ArgumentException($"need 0 <= min learning rate ({MinLearningRate}) <= learning rate ({LearningRate})");
        if (!(WarmupRatio is >= 0 and <= 1)) throw new ArgumentException($"warmup ratio must be in [0, 1], got {WarmupRatio}");
        if (Epochs < 1) throw new ArgumentException($"epochs must be at least 1, got {Epochs}");
        if (GradientAccumulationSteps < 1) throw new ArgumentException($"gradient accumulation steps must be at least 1, got {GradientAccumulationSteps}");
        if (double.IsNaN(MaxGradNorm)) throw new ArgumentException("max grad norm is NaN");
        if (CheckpointEvery < 0) throw new ArgumentException($"checkpoint interval must be >= 0, got {CheckpointEvery}");
        if (KeepCheckpoints < 0) throw new ArgumentException($"checkpoints kept must be >= 0, got {KeepCheckpoints}");
        if (HeadChunkTokens is < 1) throw new ArgumentException($"head chunk must be at least 1 position, got {HeadChunkTokens}");
        _ = new FusionLoss(Lambda, Temperature);
    }

    /// <summary>
    /// SHA-256 (hex) of every option that changes the trajectory of the weights, i.e. all but where and how
    /// often checkpoints are written; a checkpoint is resumed only under the same hash.
    /// </summary>
    public string TrajectoryHash(string dataFingerprint)
    {
        var c = CultureInfo.InvariantCulture;
        var text = string.Join("\n",
            "lr=" + LearningRate.ToString("R", c), "min_lr=" + MinLearningRate.ToString("R", c),
            "warmup=" + WarmupRatio.ToString("R", c), "wd=" + WeightDecay.ToString("R", c),
            "b1=" + Beta1.ToString("R", c), "b2=" + Beta2.ToString("R", c), "eps=" + Epsilon.ToString("R", c),
            "epochs=" + Epochs.ToString(c), "accum=" + GradientAccumulationSteps.ToString(c),
            "clip=" + MaxGradNorm.ToString("R", c), "lambda=" + Lambda.ToString("R", c),
            "t=" + Temperature.ToString("R", c), "seed=" + Seed.ToString(c), "data=" + dataFingerprint);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}
