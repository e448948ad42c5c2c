using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FuseChat.Grains.Storage;

/// <summary>
/// Artifacts in Azure Blob Storage as block blobs: uploads stage fixed-size blocks and commit the block list at the
/// end, so a blob appears (or is replaced) atomically at commit and an abandoned upload leaves no blob.
/// </summary>
public sealed class BlobArtifactStore : IArtifactStore
{
    private const string StoreKind = "Blob artifact store";

    private readonly BlobArtifactStoreOptions _options;
    private readonly BlobContainerClient _container;
    private readonly ILogger _logger;
    private readonly Lock _containerGate = new();
    private Task? _containerReady;

    /// <summary>Creates the store; nothing is contacted until the first operation.</summary>
    /// <param name="options">Connection, container and block size; validated here.</param>
    /// <param name="counters">Where to count bytes moved; null creates private counters.</param>
    /// <param name="logger">Structured logs.</param>
    public BlobArtifactStore(BlobArtifactStoreOptions options, ArtifactTransferCounters? counters = null, ILogger<BlobArtifactStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        Counters = counters ?? new ArtifactTransferCounters();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _container = BlobStorageConnection.CreateContainerClient(options.ConnectionString, options.ServiceUri, options.TokenCredential, options.ContainerName, options.ClientOptions);
    }

    /// <inheritdoc />
    public ArtifactTransferCounters Counters { get; }

    /// <summary>The container holding the artifacts.</summary>
    public string ContainerName => _options.ContainerName;

    /// <inheritdoc />
    public async Task<ArtifactWriteStream> OpenWriteAsync(string path, CancellationToken cancellationToken = default)
    {
        ArtifactPaths.Validate(path);
        await EnsureContainerAsync(path, cancellationToken).ConfigureAwait(false);
        return new BlockUpload(this, path, _container.GetBlockBlobClient(path));
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArtifactPaths.Validate(path);
        try
        {
            // allowModifications: false pins the ETag, so a concurrent commit fails the read instead of mixing versions.
            var stream = await _container.GetBlobClient(path).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken).ConfigureAwait(false);
            return new CountingReadStream(stream, Counters);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new FileNotFoundException($"{StoreKind}: no artifact '{path}' in container '{ContainerName}'.", path, e);
        }
        catch (Exception e) when (StorageFailure.IsStorageFailure(e, cancellationToken))
        {
            throw Fail("read", path, e);
        }
    }

    /// <inheritdoc />
    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default)
    {
        ArtifactPaths.Validate(path);
        try
        {
            return (await _container.GetBlobClient(path).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (Exception e) when (StorageFailure.IsStorageFailure(e, cancellationToken))
        {
            throw Fail("exists", path, e);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var pages = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix.Length == 0 ? null : prefix }, cancellationToken).AsPages().GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                Page<BlobItem> page;
                try
                {
                    if (!await pages.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }

                    page = pages.Current;
                }
                catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound)
                {
                    // Nothing was ever uploaded.
                    yield break;
                }
                catch (Exception e) when (StorageFailure.IsStorageFailure(e, cancellationToken))
                {
                    throw Fail("list", prefix, e);
                }

                foreach (var item in page.Values)
                {
                    yield return new ArtifactInfo(item.Name, item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? default);
                }
            }
        }
        finally
        {
            await pages.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        ArtifactPaths.Validate(path);
        try
        {
            return (await _container.GetBlobClient(path).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (Exception e) when (StorageFailure.IsStorageFailure(e, cancellationToken))
        {
            throw Fail("delete", path, e);
        }
    }

    private StorageOperationException Fail(string operation, string path, Exception e)
    {
        var failure = StorageFailure.Wrap(StoreKind, operation, ContainerName, _container.Uri, path, e, _options.ConnectionString);
        StorageLog.Failed(_logger, failure, StoreKind, operation, path, ContainerName, failure.Status);
        return failure;
    }

    private async Task EnsureContainerAsync(string path, CancellationToken cancellationToken)
    {
        Task ready;
        lock (_containerGate)
        {
            if (_containerReady is null || _containerReady.IsFaulted || _containerReady.IsCanceled)
            {
                _containerReady = _container.CreateIfNotExistsAsync();
            }

            ready = _containerReady;
        }

        try
        {
            await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (StorageFailure.IsStorageFailure(e, cancellationToken))
        {
            throw Fail("open for write", path, e);
        }
    }

    /// <summary>One upload: a block buffer, the staged block ids, and the commit.</summary>
    private sealed class BlockUpload(BlobArtifactStore store, string path, BlockBlobClient blob) : ArtifactWriteStream
    {
        // Unique per upload, so two uploads of the same path never mix their uncommitted blocks; every id of one blob
        // must have the same length, hence the fixed-width counter.
        private readonly string _uploadId = Guid.NewGuid().ToString("N");
        private readonly List<string> _blockIds = [];
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(store._options.BlockSize);
        private int _filled;

        public override string Path => path;

        protected override async ValueTask WriteCoreAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
        {
            var blockSize = store._options.BlockSize;
            while (!buffer.IsEmpty)
            {
                var take = Math.Min(blockSize - _filled, buffer.Length);
                buffer[..take].CopyTo(_buffer.AsMemory(_filled));
                _filled += take;
                buffer = buffer[take..];
                if (_filled == blockSize)
                {
                    await StageAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        protected override async Task CommitCoreAsync(CancellationToken cancellationToken)
        {
            if (_filled > 0)
            {
                await StageAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await blob.CommitBlockListAsync(
                    _blockIds,
                    new CommitBlockListOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" } },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (StorageFailure.IsStorageFailure(e, cancellationToken))
            {
                throw store.Fail("commit", path, e);
            }

            StorageLog.ArtifactCommitted(store._logger, StoreKind, path, Length, _blockIds.Count);
        }

        protected override ValueTask AbortCoreAsync()
        {
            // Staged blocks that are never committed are invisible and the service discards them (after a week):
            // there is nothing to delete, and deleting would remove a previous committed version.
            StorageLog.ArtifactAbandoned(store._logger, StoreKind, path, Length);
            return ValueTask.CompletedTask;
        }

        protected override ValueTask ReleaseCoreAsync()
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }

            return ValueTask.CompletedTask;
        }

        private async Task StageAsync(CancellationToken cancellationToken)
        {
            var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{_uploadId}-{_blockIds.Count:D6}"));
            try
            {
                using var content = new MemoryStream(_buffer!, 0, _filled, writable: false);
                await blob.StageBlockAsync(id, content, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (StorageFailure.IsStorageFailure(e, cancellationToken))
            {
                throw store.Fail("stage block of", path, e);
            }

            _blockIds.Add(id);
            store.Counters.AddWritten(_filled);
            _filled = 0;
        }
    }
}
