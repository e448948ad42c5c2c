namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// A checkpoint's tensors do not match its architecture: some are missing, unexpected or of the
/// wrong shape. The message lists every problem; <see cref="Problems"/> has them one by one.
/// </summary>
public class CheckpointValidationException : CheckpointFormatException
{
    /// <summary>Creates the exception from a summary and the individual problems.</summary>
    /// <param name="message">Summary naming the checkpoint; the problems are appended one per line.</param>
    /// <param name="problems">Each problem, naming the tensor (and file where it has one).</param>
    public CheckpointValidationException(string message, IReadOnlyList<string> problems)
        : base(message + Environment.NewLine + string.Join(Environment.NewLine, (problems ?? []).Select(p => "  - " + p)))
    {
        Problems = problems ?? [];
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What is wrong.</param>
    public CheckpointValidationException(string message)
        : base(message)
    {
        Problems = [];
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public CheckpointValidationException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Problems = [];
    }

    /// <summary>Creates the exception with no message.</summary>
    public CheckpointValidationException()
    {
        Problems = [];
    }

    /// <summary>Every problem found, one line each.</summary>
    public IReadOnlyList<string> Problems { get; }
}
