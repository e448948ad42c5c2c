using FuseChat.Torch;

namespace FuseChat.Fusion.Training;

/// <summary>One pairwise fusion: the pivot fine-tuned towards one source, giving one target model.</summary>
public sealed record PairwiseFusionJob
{
    /// <summary>The pivot's Hugging Face folder (weights, config, tokenizer).</summary>
    public required string PivotModel { get; init; }
    /// <summary>The pivot's representations.</summary>
    public required string PivotRepresentations { get; init; }
    /// <summary>The source's representations aligned to the pivot (fusechat align); null = pivot-only targets.</summary>
    public string? AlignedSource { get; init; }
    /// <summary>Where the target model folder goes; it appears only when training is complete.</summary>
    public required string Output { get; init; }
    /// <summary>Checkpoints (resumable); default: Output + ".checkpoints".</summary>
    public string? CheckpointFolder { get; init; }
    /// <summary>Optimiser, schedule and loss settings.</summary>
    public FusionTrainerOptions Options { get; init; } = new();
    /// <summary>Parameter dtype while training (bf16 keeps fp32 master weights in AdamW).</summary>
    public DType Dtype { get; init; } = DType.Float32;
    /// <summary>Training device.</summary>
    public Device Device { get; init; } = Device.Cpu;
}
