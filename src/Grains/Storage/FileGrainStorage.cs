using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace FuseChat.Grains.Storage;

/// <summary>
/// Grain state in a local folder for the embedded single-process mode, with the contract of
/// <see cref="AzureBlobGrainStorage"/>: one JSON file per state, a fresh random ETag per write (so a state written
/// back to an earlier value still conflicts with a stale writer), atomic replacement through a temporary file and a
/// rename, and <see cref="InconsistentStateException"/> on a conflict. Locks are per process: one process per folder.
/// </summary>
public sealed class FileGrainStorage : CancellableGrainStorage
{
    private const string ProviderKind = "File grain storage";
    private const int LockStripes = 64;

    private readonly string _name;
    private readonly FileGrainStorageOptions _options;
    private readonly string _folder;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider? _activators;
    private readonly ILogger _logger;

    // Process-wide, so two providers over one folder still serialise; striped rather than one lock per file, so the
    // table stays bounded however many grains pass through.
    private static readonly SemaphoreSlim[] Locks = Enumerable.Range(0, LockStripes).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    /// <summary>Creates the provider; the folder is created on first write.</summary>
    /// <param name="name">The provider name grains refer to.</param>
    /// <param name="options">Folder and clear behaviour; validated here.</param>
    /// <param name="serializer">The silo's serializer, used when <see cref="FileGrainStorageOptions.GrainStorageSerializer"/> is null.</param>
    /// <param name="activatorProvider">Creates empty states; null falls back to a parameterless constructor.</param>
    /// <param name="logger">Structured logs.</param>
    public FileGrainStorage(
        string name,
        FileGrainStorageOptions options,
        IGrainStorageSerializer? serializer = null,
        IActivatorProvider? activatorProvider = null,
        ILogger<FileGrainStorage>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(name);
        _name = name;
        _options = options;
        _folder = Path.GetFullPath(options.Folder);
        _serializer = options.GrainStorageSerializer ?? serializer
            ?? throw new OrleansConfigurationException($"{ProviderKind} '{name}': no IGrainStorageSerializer is registered and none is set in the options.");
        _activators = activatorProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The folder holding the states.</summary>
    public string Folder => _folder;

    /// <inheritdoc />
    public override async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var fileName = GrainStateNames.For(stateName, grainId);
        Envelope? stored;
        var gate = LockFor(fileName);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            stored = await ReadEnvelopeAsync("read", fileName, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }

        if (stored?.State is { } payload)
        {
            grainState.State = _serializer.Deserialize<T>(payload);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = StateActivation.Create<T>(_activators);
            grainState.RecordExists = false;
        }

        grainState.ETag = stored?.ETag;
        StorageLog.Done(_logger, _name, "read", fileName, _folder, grainState.ETag);
    }

    /// <inheritdoc />
    public override async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var fileName = GrainStateNames.For(stateName, grainId);
        var payload = _serializer.Serialize(grainState.State);
        grainState.ETag = await ReplaceAsync("write", fileName, grainState.ETag, payload, cancellationToken).ConfigureAwait(false);
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public override async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var fileName = GrainStateNames.For(stateName, grainId);
        if (_options.DeleteStateOnClear)
        {
            var gate = LockFor(fileName);
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var stored = await ReadEnvelopeAsync("clear", fileName, cancellationToken).ConfigureAwait(false);
                // As with blobs: a missing file is already cleared, whatever ETag the caller holds.
                if (stored is not null)
                {
                    if (stored.ETag != grainState.ETag)
                    {
                        throw Conflict("clear", fileName, stored.ETag, grainState.ETag);
                    }

                    Run("clear", fileName, () => File.Delete(Path.Combine(_folder, fileName)));
                }
            }
            finally
            {
                gate.Release();
            }

            grainState.ETag = null;
        }
        else
        {
            grainState.ETag = await ReplaceAsync("clear", fileName, grainState.ETag, null, cancellationToken).ConfigureAwait(false);
        }

        grainState.RecordExists = false;
        grainState.State = StateActivation.Create<T>(_activators);
        StorageLog.Done(_logger, _name, "clear", fileName, _folder, grainState.ETag);
    }

    private async Task<string> ReplaceAsync(string operation, string fileName, string? expectedETag, BinaryData? payload, CancellationToken cancellationToken)
    {
        var gate = LockFor(fileName);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stored = await ReadEnvelopeAsync(operation, fileName, cancellationToken).ConfigureAwait(false);
            // Blob semantics: no ETag means "create only", an ETag means "replace exactly that version".
            if (stored?.ETag != expectedETag)
            {
                throw Conflict(operation, fileName, stored?.ETag, expectedETag);
            }

            var newETag = Guid.NewGuid().ToString("N");
            var bytes = Envelope.Encode(newETag, payload);
            var target = Path.Combine(_folder, fileName);
            var temp = Path.Combine(_folder, $".{fileName}.{Guid.NewGuid():N}.tmp");
            try
            {
                Directory.CreateDirectory(_folder);
                await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
                {
                    await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                    // Durable before it becomes visible: a crash leaves the old file or the new one, never half of one.
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temp, target, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                TryDelete(temp);
                throw Fail(operation, fileName, e);
            }
            catch
            {
                TryDelete(temp);
                throw;
            }

            StorageLog.Done(_logger, _name, operation, fileName, _folder, newETag);
            return newETag;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<Envelope?> ReadEnvelopeAsync(string operation, string fileName, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_folder, fileName);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Fail(operation, fileName, e);
        }

        try
        {
            return Envelope.Decode(bytes);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidDataException)
        {
            throw Fail(operation, fileName, new InvalidDataException($"'{path}' is not a grain state file: {e.Message}", e));
        }
    }

    private SemaphoreSlim LockFor(string fileName) =>
        Locks[(uint)StringComparer.Ordinal.GetHashCode(Path.Combine(_folder, fileName)) % LockStripes];

    private InconsistentStateException Conflict(string operation, string fileName, string? storedETag, string? currentETag)
    {
        var stored = storedETag ?? "none";
        var current = currentETag ?? "none";
        StorageLog.Conflict(_logger, _name, operation, fileName, _folder, stored, current);
        return new InconsistentStateException(
            $"{ProviderKind} '{_name}': {operation} of '{fileName}' in folder '{_folder}' conflicted: stored ETag {stored}, current ETag {current}.",
            stored,
            current);
    }

    private void Run(string operation, string fileName, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Fail(operation, fileName, e);
        }
    }

    private StorageOperationException Fail(string operation, string fileName, Exception e)
    {
        var failure = new StorageOperationException(
            $"{ProviderKind} '{_name}': {operation} of '{fileName}' in folder '{_folder}' failed: {e.Message}",
            operation,
            _folder,
            fileName,
            0,
            e);
        StorageLog.Failed(_logger, failure, _name, operation, fileName, _folder, 0);
        return failure;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a stray temporary file is harmless, it is never read.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The file format: {"etag": "...", "state": &lt;the serializer's JSON&gt;}, without "state" for a tombstone.</summary>
    private sealed record Envelope(string ETag, BinaryData? State)
    {
        public static byte[] Encode(string eTag, BinaryData? state)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
            {
                writer.WriteStartObject();
                writer.WriteString("etag", eTag);
                if (state is not null)
                {
                    if (IsJson(state))
                    {
                        writer.WritePropertyName("state");
                        writer.WriteRawValue(state.ToMemory().Span, skipInputValidation: true);
                    }
                    else
                    {
                        // A binary serializer (Orleans' own) still fits in a JSON file.
                        writer.WriteBase64String("stateBase64", state.ToMemory().Span);
                    }
                }

                writer.WriteEndObject();
            }

            return buffer.ToArray();
        }

        public static Envelope Decode(byte[] bytes)
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            var eTag = root.TryGetProperty("etag", out var e) ? e.GetString() : null;
            if (string.IsNullOrEmpty(eTag))
            {
                throw new InvalidDataException("no \"etag\" property");
            }

            if (root.TryGetProperty("state", out var state))
            {
                return new Envelope(eTag, BinaryData.FromString(state.GetRawText()));
            }

            if (root.TryGetProperty("stateBase64", out var base64))
            {
                return new Envelope(eTag, BinaryData.FromBytes(base64.GetBytesFromBase64()));
            }

            return new Envelope(eTag, null);
        }

        private static bool IsJson(BinaryData data)
        {
            try
            {
                var reader = new Utf8JsonReader(data.ToMemory().Span);
                return JsonDocument.TryParseValue(ref reader, out var parsed) && Dispose(parsed) && reader.BytesConsumed == data.ToMemory().Length;
            }
            catch (JsonException)
            {
                return false;
            }
        }

        private static bool Dispose(JsonDocument? document)
        {
            document?.Dispose();
            return true;
        }
    }
}
