namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>The evaluation at the end of a run: what <see cref="IEvaluationStageGrain"/> computes.</summary>
[GenerateSerializer]
[Alias("FuseChat.EvaluationWork")]
public sealed record EvaluationWork
{
    /// <summary>The run to notify when the work ends.</summary>
    [Id(0)] public required string RunId { get; init; }

    /// <summary>Models in report order.</summary>
    /// <remarks>
    /// A concrete list: grain state is stored as JSON with type names, and a collection expression behind an
    /// interface would be stored as a compiler-made type that no silo may read back.
    /// </remarks>
    [Id(1)] public required List<EvaluatedModel> Models { get; init; }

    /// <summary>The pivot's chat template name.</summary>
    [Id(2)] public required string Template { get; init; }

    /// <summary>Held-out chats for perplexity, or null.</summary>
    [Id(3)] public string? ChatsPath { get; init; }

    /// <summary>Task set for exact-match accuracy, or null.</summary>
    [Id(4)] public string? TasksPath { get; init; }

    /// <summary>Where the JSON report goes.</summary>
    [Id(5)] public required string JsonPath { get; init; }

    /// <summary>Where the Markdown report goes.</summary>
    [Id(6)] public required string MarkdownPath { get; init; }
}
