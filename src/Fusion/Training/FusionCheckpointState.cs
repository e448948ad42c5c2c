using System.Text.Json.Serialization;

namespace FuseChat.Fusion.Training;

/// <summary>The trainer_state.json of a fusion checkpoint: where the run is and what it needs to continue exactly.</summary>
public sealed record FusionCheckpointState
{
    /// <summary>Layout version of this file.</summary>
    [JsonPropertyName("format")] public int Format { get; init; } = 1;
    /// <summary>Optimiser steps completed.</summary>
    [JsonPropertyName("step")] public long Step { get; init; }
    /// <summary>Optimiser steps of the whole run.</summary>
    [JsonPropertyName("total_steps")] public long TotalSteps { get; init; }
    /// <summary>Warmup steps of the schedule.</summary>
    [JsonPropertyName("warmup_steps")] public long WarmupSteps { get; init; }
    /// <summary>Learning rate of the last step taken (the schedule position is <see cref="Step"/>).</summary>
    [JsonPropertyName("learning_rate")] public double LearningRate { get; init; }
    /// <summary>AdamW's step count (bias correction).</summary>
    [JsonPropertyName("optimizer_step_count")] public long OptimizerStepCount { get; init; }
    /// <summary>Epoch of the next micro-batch.</summary>
    [JsonPropertyName("epoch")] public int Epoch { get; init; }
    /// <summary>Index in its epoch of the next micro-batch.</summary>
    [JsonPropertyName("batch_index")] public int BatchIndex { get; init; }
    /// <summary>Input tokens processed so far.</summary>
    [JsonPropertyName("tokens_seen")] public long TokensSeen { get; init; }
    /// <summary>libtorch's CPU generator state, base64.</summary>
    [JsonPropertyName("torch_rng_state")] public string TorchRngState { get; init; } = "";
    /// <summary><see cref="FusionTrainerOptions.TrajectoryHash"/> of the run.</summary>
    [JsonPropertyName("options_hash")] public string OptionsHash { get; init; } = "";
    /// <summary>dtype of the stored parameters (f32, bf16, ...).</summary>
    [JsonPropertyName("parameter_dtype")] public string ParameterDType { get; init; } = "";
}
