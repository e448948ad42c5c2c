namespace FuseChat.Client.Api;

/// <summary>What an upload or download did.</summary>
/// <param name="Transferred">Files sent or fetched.</param>
/// <param name="Skipped">Files already there with the same length (an earlier, interrupted transfer got them across).</param>
/// <param name="Bytes">Bytes sent or fetched.</param>
/// <param name="Hidden">Files left out because a segment of their path starts with '.' (.git, .cache).</param>
/// <param name="Extra">
/// After an upload of a folder: artifacts under its prefix that the local folder does not have, such as the shards of
/// an earlier version of the model, which a run would pull along with the new ones.
/// </param>
public sealed record TransferSummary(int Transferred, int Skipped, long Bytes, int Hidden, IReadOnlyList<string> Extra)
{
    /// <summary>A summary with no extra artifacts.</summary>
    public TransferSummary(int transferred, int skipped, long bytes, int hidden)
        : this(transferred, skipped, bytes, hidden, [])
    {
    }

    /// <inheritdoc/>
    public bool Equals(TransferSummary? other) =>
        other is not null && (Transferred, Skipped, Bytes, Hidden) == (other.Transferred, other.Skipped, other.Bytes, other.Hidden) && Extra.SequenceEqual(other.Extra);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Transferred, Skipped, Bytes, Hidden, Extra.Count);
}
