namespace FuseChat.Fusion.Training;

/// <summary>
/// Micro-batches of fusion training data, addressable by (epoch, index) so that a resumed run sees exactly
/// the batches the interrupted one would have seen. Implementations must be deterministic: the same
/// arguments give the same data (any shuffling is a pure function of the epoch).
/// </summary>
public interface IFusionBatchSource
{
    /// <summary>Number of micro-batches in one epoch.</summary>
    int BatchesPerEpoch { get; }

    /// <summary>
    /// A new batch that the caller owns and disposes; its tensors may be on any device (the trainer moves them).
    /// </summary>
    /// <param name="epoch">Zero-based epoch.</param>
    /// <param name="index">Zero-based micro-batch index within the epoch, below <see cref="BatchesPerEpoch"/>.</param>
    FusionBatch GetBatch(int epoch, int index);

    /// <summary>
    /// A text that identifies the data (name, size, version); it enters the options hash of checkpoints so that
    /// a run is not resumed on different data by mistake.
    /// </summary>
    string Fingerprint { get; }
}
