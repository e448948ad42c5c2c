using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FuseChat.Grains.Storage;

/// <summary>
/// Artifacts in a local folder for the embedded mode: uploads go to a temporary file under ".tmp" in the same folder
/// (hence the same file system) and are renamed into place at commit, so a file appears or is replaced atomically.
/// </summary>
public sealed class FileArtifactStore : IArtifactStore
{
    private const string StoreKind = "File artifact store";
    private const string TempFolderName = ".tmp";

    private readonly string _root;
    private readonly ILogger _logger;

    /// <summary>Creates the store over <paramref name="folder"/>, which is created on first upload.</summary>
    /// <param name="folder">The root folder.</param>
    /// <param name="counters">Where to count bytes moved; null creates private counters.</param>
    /// <param name="logger">Structured logs.</param>
    public FileArtifactStore(string folder, ArtifactTransferCounters? counters = null, ILogger<FileArtifactStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        _root = Path.GetFullPath(folder);
        Counters = counters ?? new ArtifactTransferCounters();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public ArtifactTransferCounters Counters { get; }

    /// <summary>The root folder.</summary>
    public string Folder => _root;

    /// <inheritdoc />
    public Task<ArtifactWriteStream> OpenWriteAsync(string path, CancellationToken cancellationToken = default)
    {
        var target = FullPath(path);
        var tempFolder = Path.Combine(_root, TempFolderName);
        Directory.CreateDirectory(tempFolder);
        var temp = Path.Combine(tempFolder, $"{Guid.NewGuid():N}.part");
        var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        return Task.FromResult<ArtifactWriteStream>(new FileUpload(this, path, target, temp, stream));
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = FullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"{StoreKind}: no artifact '{path}' in '{_root}'.", path);
        }

        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Task.FromResult<Stream>(new CountingReadStream(stream, Counters));
    }

    /// <inheritdoc />
    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) => Task.FromResult(File.Exists(FullPath(path)));

    /// <inheritdoc />
    public async IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (!Directory.Exists(_root))
        {
            yield break;
        }

        var tempPrefix = TempFolderName + "/";
        var found = new List<ArtifactInfo>();
        foreach (var file in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (relative.StartsWith(tempPrefix, StringComparison.Ordinal) || !relative.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var info = new FileInfo(file);
            found.Add(new ArtifactInfo(relative, info.Length, info.LastWriteTimeUtc));
        }

        // Blob listings come in ordinal order; give the same here.
        found.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        foreach (var item in found)
        {
            yield return item;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = FullPath(path);
        if (!File.Exists(full))
        {
            return Task.FromResult(false);
        }

        File.Delete(full);
        return Task.FromResult(true);
    }

    private string FullPath(string path)
    {
        ArtifactPaths.Validate(path);
        if (path == TempFolderName || path.StartsWith(TempFolderName + "/", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Artifact paths under '{TempFolderName}/' are reserved for uploads in progress.", nameof(path));
        }

        var full = Path.GetFullPath(Path.Combine(_root, path));
        // Validate already refuses "..": this guards against anything the platform resolves differently.
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Artifact path '{path}' leaves the store's folder.", nameof(path));
        }

        return full;
    }

    /// <summary>One upload into a temporary file, renamed into place at commit.</summary>
    private sealed class FileUpload(FileArtifactStore store, string path, string target, string temp, FileStream stream) : ArtifactWriteStream
    {
        private bool _closed;

        public override string Path => path;

        protected override async ValueTask WriteCoreAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            store.Counters.AddWritten(buffer.Length);
        }

        protected override async Task CommitCoreAsync(CancellationToken cancellationToken)
        {
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            // Durable before visible: after a crash the artifact is the old one or the whole new one.
            stream.Flush(flushToDisk: true);
            await CloseAsync().ConfigureAwait(false);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.Move(temp, target, overwrite: true);
            StorageLog.ArtifactCommitted(store._logger, StoreKind, path, Length, 1);
        }

        protected override async ValueTask AbortCoreAsync()
        {
            await CloseAsync().ConfigureAwait(false);
            File.Delete(temp);
            StorageLog.ArtifactAbandoned(store._logger, StoreKind, path, Length);
        }

        protected override ValueTask ReleaseCoreAsync() => CloseAsync();

        private async ValueTask CloseAsync()
        {
            if (!_closed)
            {
                _closed = true;
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
