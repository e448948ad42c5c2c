using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace FuseChat.Grains.Storage;

/// <summary>
/// Grain state in Azure Blob Storage with Orleans' semantics: one blob "{stateName}-{grainId}.json" per state,
/// optimistic concurrency through the blob's ETag, and <see cref="InconsistentStateException"/> on a conflict.
/// </summary>
public sealed class AzureBlobGrainStorage : CancellableGrainStorage
{
    private const string ProviderKind = "Azure blob grain storage";

    private readonly string _name;
    private readonly AzureBlobGrainStorageOptions _options;
    private readonly BlobContainerClient _container;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider? _activators;
    private readonly ILogger _logger;
    private readonly Lock _containerGate = new();
    private Task? _containerReady;

    /// <summary>Creates the provider; nothing is contacted until the first operation.</summary>
    /// <param name="name">The provider name grains refer to.</param>
    /// <param name="options">Connection, container and clear behaviour; validated here.</param>
    /// <param name="serializer">The silo's serializer, used when <see cref="AzureBlobGrainStorageOptions.GrainStorageSerializer"/> is null.</param>
    /// <param name="activatorProvider">Creates empty states; null falls back to a parameterless constructor.</param>
    /// <param name="logger">Structured logs.</param>
    public AzureBlobGrainStorage(
        string name,
        AzureBlobGrainStorageOptions options,
        IGrainStorageSerializer? serializer = null,
        IActivatorProvider? activatorProvider = null,
        ILogger<AzureBlobGrainStorage>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(name);
        _name = name;
        _options = options;
        _serializer = options.GrainStorageSerializer ?? serializer
            ?? throw new OrleansConfigurationException($"{ProviderKind} '{name}': no IGrainStorageSerializer is registered and none is set in the options.");
        _activators = activatorProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _container = BlobStorageConnection.CreateContainerClient(options.ConnectionString, options.ServiceUri, options.TokenCredential, options.ContainerName, options.ClientOptions);
    }

    /// <summary>The provider name.</summary>
    public string Name => _name;

    /// <summary>The container holding the states.</summary>
    public string ContainerName => _options.ContainerName;

    /// <inheritdoc />
    public override async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var blobName = GrainStateNames.For(stateName, grainId);
        var blob = _container.GetBlobClient(blobName);
        BlobDownloadResult result;
        try
        {
            result = (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // Blob or container missing: a grain that never wrote.
            grainState.State = StateActivation.Create<T>(_activators);
            grainState.ETag = null;
            grainState.RecordExists = false;
            StorageLog.Done(_logger, _name, "read (none)", blobName, ContainerName, null);
            return;
        }
        catch (Exception e) when (StorageFailure.IsStorageFailure(e, cancellationToken))
        {
            throw Fail("read", blobName, e);
        }

        var eTag = result.Details.ETag.ToString();
        if (result.Content.ToMemory().IsEmpty)
        {
            // A tombstone left by a clear: no state, but the ETag still guards the next write.
            grainState.State = StateActivation.Create<T>(_activators);
            grainState.RecordExists = false;
        }
        else
        {
            grainState.State = _serializer.Deserialize<T>(result.Content);
            grainState.RecordExists = true;
        }

        grainState.ETag = eTag;
        StorageLog.Done(_logger, _name, "read", blobName, ContainerName, eTag);
    }

    /// <inheritdoc />
    public override async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var blobName = GrainStateNames.For(stateName, grainId);
        var contents = _serializer.Serialize(grainState.State);
        grainState.ETag = await UploadAsync("write", blobName, contents, grainState.ETag, cancellationToken).ConfigureAwait(false);
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public override async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var blobName = GrainStateNames.For(stateName, grainId);
        if (_options.DeleteStateOnClear)
        {
            var blob = _container.GetBlobClient(blobName);
            try
            {
                // A missing blob (or container) counts as cleared, as in Orleans' provider.
                await blob.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, Conditions(grainState.ETag), cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (IsConflict(e))
            {
                throw await ConflictAsync("clear", blobName, grainState.ETag, e, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (StorageFailure.IsStorageFailure(e, cancellationToken))
            {
                throw Fail("clear", blobName, e);
            }

            grainState.ETag = null;
            StorageLog.Done(_logger, _name, "clear (deleted)", blobName, ContainerName, null);
        }
        else
        {
            grainState.ETag = await UploadAsync("clear", blobName, BinaryData.Empty, grainState.ETag, cancellationToken).ConfigureAwait(false);
        }

        grainState.RecordExists = false;
        grainState.State = StateActivation.Create<T>(_activators);
    }

    private async Task<string> UploadAsync(string operation, string blobName, BinaryData contents, string? eTag, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient(blobName);
        var upload = new BlobUploadOptions
        {
            Conditions = Conditions(eTag),
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
        };
        try
        {
            await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            Response<BlobContentInfo> response;
            try
            {
                response = await blob.UploadAsync(contents, upload, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound)
            {
                // Deleted behind our back since it was created: create it again, once.
                ResetContainer();
                await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
                response = await blob.UploadAsync(contents, upload, cancellationToken).ConfigureAwait(false);
            }

            var newETag = response.Value.ETag.ToString();
            StorageLog.Done(_logger, _name, operation, blobName, ContainerName, newETag);
            return newETag;
        }
        catch (RequestFailedException e) when (IsConflict(e) || (e.Status == 404 && eTag is not null))
        {
            // 409: created by someone else while we expected none; 412: changed since our read;
            // 404 with an ETag: deleted since our read.
            throw await ConflictAsync(operation, blobName, eTag, e, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (StorageFailure.IsStorageFailure(e, cancellationToken))
        {
            throw Fail(operation, blobName, e);
        }
    }

    // Other 409s (ContainerBeingDeleted, lease errors) are outages or misuse, not a stale ETag.
    private static bool IsConflict(RequestFailedException e) =>
        e.Status == 412 || (e.Status == 409 && e.ErrorCode == BlobErrorCode.BlobAlreadyExists);

    private static BlobRequestConditions Conditions(string? eTag) =>
        eTag is null ? new BlobRequestConditions { IfNoneMatch = ETag.All } : new BlobRequestConditions { IfMatch = new ETag(eTag) };

    private async Task<InconsistentStateException> ConflictAsync(string operation, string blobName, string? currentETag, RequestFailedException cause, CancellationToken cancellationToken)
    {
        // The stored ETag is only for the message and the log; the conflict stands if we cannot learn it.
        string stored;
        try
        {
            stored = (await _container.GetBlobClient(blobName).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            stored = "none";
        }
        catch (Exception e) when (StorageFailure.IsStorageFailure(e, cancellationToken))
        {
            stored = "unknown";
        }

        var current = currentETag ?? "none";
        StorageLog.Conflict(_logger, _name, operation, blobName, ContainerName, stored, current);
        return new InconsistentStateException(
            $"{ProviderKind} '{_name}': {operation} of blob '{blobName}' in container '{ContainerName}' conflicted: stored ETag {stored}, current ETag {current} ({cause.Status} {cause.ErrorCode}).",
            stored,
            current,
            cause);
    }

    private StorageOperationException Fail(string operation, string blobName, Exception e)
    {
        var failure = StorageFailure.Wrap($"{ProviderKind} '{_name}'", operation, ContainerName, _container.Uri, blobName, e, _options.ConnectionString);
        StorageLog.Failed(_logger, failure, _name, operation, blobName, ContainerName, failure.Status);
        return failure;
    }

    private Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        Task ready;
        lock (_containerGate)
        {
            // Shared by all callers, so it must not observe one caller's token; a failed attempt is retried by the next caller.
            if (_containerReady is null || _containerReady.IsFaulted || _containerReady.IsCanceled)
            {
                _containerReady = CreateContainerAsync();
            }

            ready = _containerReady;
        }

        return ready.WaitAsync(cancellationToken);
    }

    private void ResetContainer()
    {
        lock (_containerGate)
        {
            _containerReady = null;
        }
    }

    private async Task CreateContainerAsync()
    {
        // Failures reach every waiting caller, each of which reports it under its own operation and blob.
        await _container.CreateIfNotExistsAsync().ConfigureAwait(false);
        StorageLog.ContainerReady(_logger, _name, ContainerName);
    }
}
