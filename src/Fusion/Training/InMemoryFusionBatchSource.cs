using FuseChat.Torch;

namespace FuseChat.Fusion.Training;

/// <summary>
/// A batch source over batches held in memory (tests, small runs). Optionally shuffles the order per epoch
/// with a permutation derived only from (seed, epoch), so there is no generator state to checkpoint.
/// </summary>
public sealed class InMemoryFusionBatchSource : IFusionBatchSource, IDisposable
{
    private readonly FusionBatch[] batches;
    private readonly int? shuffleSeed;
    private readonly EpochOrder order;

    /// <summary>Takes ownership of <paramref name="batches"/>; <paramref name="shuffleSeed"/> null keeps their order.</summary>
    public InMemoryFusionBatchSource(IEnumerable<FusionBatch> batches, int? shuffleSeed = null)
    {
        ArgumentNullException.ThrowIfNull(batches);
        this.batches = batches.ToArray();
        if (this.batches.Length == 0) throw new ArgumentException("at least one batch is needed", nameof(batches));
        this.shuffleSeed = shuffleSeed;
        order = new EpochOrder(this.batches.Length, shuffleSeed);
    }

    /// <inheritdoc/>
    public int BatchesPerEpoch => batches.Length;

    /// <inheritdoc/>
    public string Fingerprint => $"in-memory:{batches.Length}:{shuffleSeed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "ordered"}";

    /// <inheritdoc/>
    public FusionBatch GetBatch(int epoch, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (index < 0 || index >= batches.Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"the source has {batches.Length} batches");
        var b = batches[order[epoch, index]];
        using var scope = DisposeScope.Open();
        return new FusionBatch(b.Ids.Clone(), b.Labels.Clone(), b.TargetIds.Clone(), b.TargetLogits.Clone());
    }

    /// <summary>Frees the batches.</summary>
    public void Dispose()
    {
        foreach (var b in batches) b.Dispose();
    }
}
