using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>
/// An artifact store whose writes of matching paths wait while the gate is closed: an upload that takes as long as a
/// test wants, as a slow link to blob storage makes it. Everything else reaches the inner store at once.
/// </summary>
public sealed class GatedArtifactStore(IArtifactStore inner) : IArtifactStore
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _open = NewOpen(opened: true);
    private Func<string, bool> _held = _ => false;
    private int _waiting;

    /// <summary>How many writes are waiting at the closed gate now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public ArtifactTransferCounters Counters => inner.Counters;

    /// <summary>Holds the writes of paths that <paramref name="held"/> accepts until <see cref="Open"/>.</summary>
    public void Close(Func<string, bool> held)
    {
        lock (_lock)
        {
            _held = held;
            if (_open.Task.IsCompleted) _open = NewOpen(opened: false);
        }
    }

    /// <summary>Lets every held write and all later ones through.</summary>
    public void Open()
    {
        lock (_lock)
        {
            _held = _ => false;
            _open.TrySetResult();
        }
    }

    public async Task<ArtifactWriteStream> OpenWriteAsync(string path, CancellationToken cancellationToken = default)
    {
        Task gate;
        lock (_lock) gate = _held(path) ? _open.Task : Task.CompletedTask;
        if (!gate.IsCompleted)
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                await gate.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        return await inner.OpenWriteAsync(path, cancellationToken);
    }

    public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default) => inner.OpenReadAsync(path, cancellationToken);

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) => inner.ExistsAsync(path, cancellationToken);

    public IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);

    private static TaskCompletionSource NewOpen(bool opened)
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (opened) open.SetResult();
        return open;
    }
}
