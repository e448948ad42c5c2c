namespace FuseChat.Grains.Runs;

/// <summary>The outcome of <see cref="RunSpecValidator.Validate"/>: the spec, or every problem found.</summary>
/// <param name="Spec">The spec with absolute paths; null when there are problems.</param>
/// <param name="Problems">Every problem, each naming the key (e.g. "training.lr") it concerns.</param>
public sealed record RunSpecValidation(RunSpec? Spec, IReadOnlyList<string> Problems)
{
    /// <summary>True when the spec has no problem.</summary>
    public bool IsValid => Spec is not null && Problems.Count == 0;
}
