namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>Stage 3 for one source: what <see cref="IPairwiseFusionGrain"/> trains. Paths are absolute.</summary>
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
    [Id(5)] public double LearningRate { get; init; } = 5e-6;

    /// <summary>Passes over the data.</summary>
    [Id(6)] public int Epochs { get; init; } = 3;

    /// <summary>Micro-batches per optimiser step.</summary>
    [Id(7)] public int Accumulation { get; init; } = 1;

    /// <summary>λ of the fusion loss.</summary>
    [Id(8)] public double Lambda { get; init; } = 0.9;

    /// <summary>Warmup fraction of all steps.</summary>
    [Id(9)] public double Warmup { get; init; } = 0.03;

    /// <summary>Optimiser steps between checkpoints (the unit of resumption); 0 = only at the end.</summary>
    [Id(10)] public int CheckpointEvery { get; init; }

    /// <summary>Parameter dtype while training (f32, bf16).</summary>
    [Id(11)] public string Dtype { get; init; } = "f32";
}
