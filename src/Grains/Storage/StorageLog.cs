using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Storage;

/// <summary>Structured log messages of the storage providers. None of them carries a secret.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "Grain storage {Provider} uses container {Container}")]
    public static partial void ContainerReady(ILogger logger, string provider, string container);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Grain storage {Provider}: {Operation} of {Target} in {Container} conflicted (stored ETag {StoredETag}, current ETag {CurrentETag})")]
    public static partial void Conflict(ILogger logger, string provider, string operation, string target, string container, string storedETag, string currentETag);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Error, Message = "Storage {Provider}: {Operation} of {Target} in {Container} failed with status {Status}")]
    public static partial void Failed(ILogger logger, Exception exception, string provider, string operation, string target, string container, int status);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Debug, Message = "Grain storage {Provider}: {Operation} of {Target} in {Container}, ETag {ETag}")]
    public static partial void Done(ILogger logger, string provider, string operation, string target, string container, string? eTag);

    [LoggerMessage(EventId = 4110, Level = LogLevel.Debug, Message = "Artifact store {Store}: committed {Path}, {Bytes} bytes in {Blocks} blocks")]
    public static partial void ArtifactCommitted(ILogger logger, string store, string path, long bytes, int blocks);

    [LoggerMessage(EventId = 4111, Level = LogLevel.Information, Message = "Artifact store {Store}: upload of {Path} abandoned after {Bytes} bytes; nothing was committed")]
    public static partial void ArtifactAbandoned(ILogger logger, string store, string path, long bytes);
}
