namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>The stages of a fusion run, in order.</summary>
[GenerateSerializer]
public enum RunStage
{
    /// <summary>Stage 1: top-K logits of the pivot and every source on the training chats.</summary>
    Representations,

    /// <summary>Stage 2: each source's distributions aligned to the pivot's tokens and vocabulary.</summary>
    Alignment,

    /// <summary>Stage 3: one pairwise fusion (fine-tuning of the pivot) per source.</summary>
    Fusion,

    /// <summary>Stage 4: the targets merged in parameter space.</summary>
    Merge,

    /// <summary>Pivot, targets and fused model evaluated on held-out chats and tasks.</summary>
    Evaluation,
}
