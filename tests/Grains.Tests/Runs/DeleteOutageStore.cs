using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>
/// An artifact store whose deletes can be sent to an unreachable blob endpoint while everything else reaches the real
/// one: a storage outage that hits the cleanup of an ended run and nothing else (the workers never delete).
/// </summary>
public sealed class DeleteOutageStore(IArtifactStore inner, IArtifactStore unreachable) : IArtifactStore
{
    private volatile bool _deletesFail;

    /// <summary>Whether deletes go to the unreachable endpoint.</summary>
    public bool DeletesFail
    {
        get => _deletesFail;
        set => _deletesFail = value;
    }

    public ArtifactTransferCounters Counters => inner.Counters;

    public Task<ArtifactWriteStream> OpenWriteAsync(string path, CancellationToken cancellationToken = default) => inner.OpenWriteAsync(path, cancellationToken);

    public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default) => inner.OpenReadAsync(path, cancellationToken);

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) => inner.ExistsAsync(path, cancellationToken);

    public IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) =>
        (DeletesFail ? unreachable : inner).DeleteAsync(path, cancellationToken);
}
