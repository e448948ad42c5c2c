namespace FuseChat.Fusion.Merging;

/// <summary>A merge recipe that cannot be used; the message lists every problem found, one per line.</summary>
public sealed class MergeRecipeException : Exception
{
    /// <summary>Creates the exception from the problems found.</summary>
    public MergeRecipeException(IReadOnlyList<string> problems)
        : base(Describe(problems)) => Problems = problems;

    /// <summary>Creates the exception with a single problem.</summary>
    public MergeRecipeException(string message) : this([message]) { }

    /// <summary>Creates an exception with no listed problem.</summary>
    public MergeRecipeException() : this(Array.Empty<string>()) { }

    /// <summary>Creates the exception with a single problem and its cause.</summary>
    public MergeRecipeException(string message, Exception innerException)
        : base(Describe([message]), innerException) => Problems = [message];

    /// <summary>Every problem found, in document order.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Describe(IReadOnlyList<string> problems) => problems.Count switch
    {
        0 => "invalid merge recipe",
        1 => $"invalid merge recipe: {problems[0]}",
        _ => $"invalid merge recipe ({problems.Count} problems):" + string.Concat(problems.Select(p => $"{Environment.NewLine}  - {p}")),
    };
}
