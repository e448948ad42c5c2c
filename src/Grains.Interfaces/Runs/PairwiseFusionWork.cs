namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>
/// Stage 3 for one source: what <see cref="IPairwiseFusionGrain"/> trains. Paths are absolute. No member has an
/// initializer: the JSON grain storage omits default values (0), and an initializer would turn a stored
/// warmup of 0 into its own value when the state is read back after a restart.
/// </summary>
[GenerateSerializer]
[Alias("FuseChat.PairwiseFusionWork")]
public sealed record PairwiseFusionWork
{
    /// <summary>The run to notify when the work ends.</summary>
    [Id(0)] public required string RunId { get; init; }

    /// <summary>The pivot's model folder.</summary>
    [Id(1)] public required string PivotModel { get; init; }

    /// <summary>The pivot's representations.</summary>
    [Id(2)] public required string PivotRepresentations { get; init; }

    /// <summary>The source's aligned representations.</summary>
    [Id(3)] public required string AlignedSource { get; init; }

    /// <summary>The target model folder; checkpoints go next to it ("{output}.checkpoints").</summary>
    [Id(4)] public required string OutputFolder { get; init; }

    /// <summary>Peak learning rate.</summary>
    [Id(5)] public required double LearningRate { get; init; }

    /// <summary>Passes over the data.</summary>
    [Id(6)] public required int Epochs { get; init; }

    /// <summary>Micro-batches per optimiser step.</summary>
    [Id(7)] public required int Accumulation { get; init; }

    /// <summary>λ of the fusion loss.</summary>
    [Id(8)] public required double Lambda { get; init; }

    /// <summary>Warmup fraction of all steps.</summary>
    [Id(9)] public required double Warmup { get; init; }

    /// <summary>Optimiser steps between checkpoints (the unit of resumption); 0 = only at the end.</summary>
    [Id(10)] public required int CheckpointEvery { get; init; }

    /// <summary>Parameter dtype while training (f32, bf16).</summary>
    [Id(11)] public required string Dtype { get; init; }

    /// <summary>Recompute the layers in the backward pass instead of keeping their activations (absent in state stored before it existed: off).</summary>
    [Id(12)] public bool GradientCheckpointing { get; init; }

    /// <summary>Keep AdamW's masters and moments in host memory when training on a GPU (absent in older state: off).</summary>
    [Id(13)] public bool OptimizerOffload { get; init; }
}
