namespace FuseChat.Fusion.Models;

/// <summary>How <see cref="TextGenerator"/> picks tokens.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate.</summary>
    public int MaxNewTokens { get; init; } = 256;
    /// <summary>0 = greedy (argmax); otherwise logits are divided by it before sampling.</summary>
    public double Temperature { get; init; }
    /// <summary>Sample only among the k most likely tokens; 0 = no limit.</summary>
    public int TopK { get; init; }
    /// <summary>Sample only among the most likely tokens whose probabilities sum to p (nucleus); 1 = no limit.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Token ids that end generation (an end-of-turn or EOS id); the stop token is not returned.</summary>
    public IReadOnlyCollection<int> StopTokenIds { get; init; } = [];

    /// <summary>Throws when a value is out of range, naming it.</summary>
    public void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentException($"max new tokens must be >= 0, got {MaxNewTokens}");
        if (!(Temperature >= 0)) throw new ArgumentException($"temperature must be >= 0, got {Temperature}");
        if (TopK < 0) throw new ArgumentException($"top-k must be >= 0, got {TopK}");
        if (!(TopP is > 0 and <= 1)) throw new ArgumentException($"top-p must be in (0, 1], got {TopP}");
    }
}
