namespace FuseChat.Fusion.Training;

/// <summary>
/// A fusion run stopped because the loss or the gradient norm was not finite. No update was applied
/// and no checkpoint was written for the failing step, so the last checkpoint is the last good state.
/// </summary>
public sealed class FusionTrainingException : Exception
{
    /// <summary>Creates the exception with a message naming the failing step.</summary>
    public FusionTrainingException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public FusionTrainingException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with no message.</summary>
    public FusionTrainingException() { }

    /// <summary>The optimiser step (1-based) that failed.</summary>
    public long Step { get; init; }

    /// <summary>The epoch of the failing micro-batch.</summary>
    public int Epoch { get; init; }

    /// <summary>The index in its epoch of the failing micro-batch, or −1 when the gradient norm failed.</summary>
    public int BatchIndex { get; init; } = -1;
}
