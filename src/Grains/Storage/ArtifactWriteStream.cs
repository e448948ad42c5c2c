namespace FuseChat.Grains.Storage;

/// <summary>
/// A write-only stream into an artifact store. The artifact becomes visible, atomically, at
/// <see cref="CommitAsync"/>; disposing without committing abandons the upload and leaves nothing behind.
/// </summary>
public abstract class ArtifactWriteStream : Stream
{
    private long _written;
    private bool _committed;
    private bool _disposed;

    /// <summary>The artifact path being written.</summary>
    public abstract string Path { get; }

    /// <summary>Whether <see cref="CommitAsync"/> completed.</summary>
    public bool IsCommitted => _committed;

    /// <inheritdoc />
    public override bool CanRead => false;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => !_disposed && !_committed;

    /// <inheritdoc />
    public override long Length => _written;

    /// <inheritdoc />
    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException("Artifact uploads are sequential.");
    }

    /// <summary>Publishes everything written so far as the artifact, replacing any previous one.</summary>
    /// <param name="cancellationToken">Cancels the commit; the artifact is then left as it was.</param>
    /// <returns>A task that completes once the artifact is visible.</returns>
    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            return;
        }

        await CommitCoreAsync(cancellationToken).ConfigureAwait(false);
        _committed = true;
    }

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfNotWritable();
        await WriteCoreAsync(buffer, cancellationToken).ConfigureAwait(false);
        _written += buffer.Length;
    }

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        // Synchronous callers (BinaryWriter, some serializers) block on the same path as async ones.
        WriteAsync(buffer.ToArray()).AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override void Flush()
    {
        // Data is published only by CommitAsync; there is nothing to flush on its own.
    }

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Artifact upload streams are write-only.");

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("Artifact uploads are sequential.");

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException("Artifact uploads are sequential.");

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            if (!_committed)
            {
                await AbortCoreAsync().ConfigureAwait(false);
            }

            await ReleaseCoreAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            if (!_committed)
            {
                AbortCoreAsync().AsTask().GetAwaiter().GetResult();
            }

            ReleaseCoreAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    /// <summary>Sends <paramref name="buffer"/> towards storage without publishing it.</summary>
    /// <param name="buffer">The bytes.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the bytes may be reused.</returns>
    protected abstract ValueTask WriteCoreAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Publishes the artifact atomically.</summary>
    /// <param name="cancellationToken">Cancels the commit.</param>
    /// <returns>A task that completes once the artifact is visible.</returns>
    protected abstract Task CommitCoreAsync(CancellationToken cancellationToken);

    /// <summary>Discards an upload that was not committed.</summary>
    /// <returns>A task that completes when nothing of the upload remains visible.</returns>
    protected abstract ValueTask AbortCoreAsync();

    /// <summary>Releases buffers and handles, committed or not.</summary>
    /// <returns>A task that completes when they are released.</returns>
    protected virtual ValueTask ReleaseCoreAsync() => ValueTask.CompletedTask;

    private void ThrowIfNotWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException($"Artifact '{Path}' is already committed.");
        }
    }
}
