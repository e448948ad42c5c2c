namespace FuseChat.Fusion.Evaluation;

/// <summary>Scores of one model: perplexity on held-out chats and exact-match accuracy on a task set.</summary>
public sealed record ModelEvaluation
{
    /// <summary>A short name for the model (its folder name unless given).</summary>
    public required string Model { get; init; }
    /// <summary>exp(mean negative log-likelihood over trained tokens); null without chats.</summary>
    public double? Perplexity { get; init; }
    /// <summary>Trained tokens scored for perplexity.</summary>
    public long PerplexityTokens { get; init; }
    /// <summary>Conversations scored for perplexity.</summary>
    public int Conversations { get; init; }
    /// <summary>Fraction of task examples answered exactly; null without a task set.</summary>
    public double? ExactMatch { get; init; }
    /// <summary>Task examples answered.</summary>
    public int TaskExamples { get; init; }
    /// <summary>Task examples answered exactly.</summary>
    public int TaskCorrect { get; init; }
}
