namespace FuseChat.Grains.Storage;

/// <summary>
/// Storage for large artifacts (checkpoints, representation shards, merged models), which never go into grain
/// state. Paths are relative, '/'-separated, without "." or ".." segments. An artifact appears whole, at commit, or
/// not at all.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Bytes moved by this store, for metrics.</summary>
    ArtifactTransferCounters Counters { get; }

    /// <summary>
    /// Starts writing <paramref name="path"/>. Nothing is visible until <see cref="ArtifactWriteStream.CommitAsync"/>;
    /// disposing the stream without committing discards what was written, and an existing artifact stays as it was.
    /// </summary>
    /// <param name="path">The artifact path.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A write-only stream.</returns>
    Task<ArtifactWriteStream> OpenWriteAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Opens <paramref name="path"/> for sequential reading.</summary>
    /// <param name="path">The artifact path.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>A read-only stream.</returns>
    /// <exception cref="FileNotFoundException">No such artifact.</exception>
    Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Whether a committed artifact exists at <paramref name="path"/>.</summary>
    /// <param name="path">The artifact path.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>True when it exists.</returns>
    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Lists committed artifacts whose path starts with <paramref name="prefix"/>, in ordinal order.</summary>
    /// <param name="prefix">A path prefix; empty lists everything. Use a trailing '/' to list one folder.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The artifacts.</returns>
    IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes <paramref name="path"/> if it exists.</summary>
    /// <param name="path">The artifact path.</param>
    /// <param name="cancellationToken">Cancels the deletion.</param>
    /// <returns>True when something was deleted.</returns>
    Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default);
}
