namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// A checkpoint file (safetensors, index or config.json) is malformed or does not match what
/// FuseChat expects. The message names the file and, where one is involved, the tensor.
/// </summary>
public class CheckpointFormatException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong; should name the file and tensor.</param>
    public CheckpointFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What is wrong; should name the file and tensor.</param>
    /// <param name="innerException">The underlying error.</param>
    public CheckpointFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no message (for serializers and tooling).</summary>
    public CheckpointFormatException()
    {
    }

    /// <summary>The file the problem was found in, when known.</summary>
    public string? FilePath { get; init; }

    /// <summary>The tensor the problem concerns, when one does.</summary>
    public string? TensorName { get; init; }
}
