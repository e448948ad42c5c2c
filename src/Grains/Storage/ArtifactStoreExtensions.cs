namespace FuseChat.Grains.Storage;

/// <summary>Folder-level helpers over any <see cref="IArtifactStore"/>, such as a Hugging Face model folder.</summary>
public static class ArtifactStoreExtensions
{
    /// <summary>Uploads every file under <paramref name="localFolder"/> to "{prefix}/{relative path}", each committed on its own.</summary>
    /// <param name="store">The store.</param>
    /// <param name="localFolder">The folder to upload.</param>
    /// <param name="prefix">The artifact folder, without a trailing '/'.</param>
    /// <param name="cancellationToken">Cancels the upload; files already committed stay.</param>
    /// <returns>The number of files uploaded.</returns>
    public static async Task<int> UploadFolderAsync(this IArtifactStore store, string localFolder, string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(localFolder);
        ArtifactPaths.Validate(prefix);
        var root = Path.GetFullPath(localFolder);
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            await store.UploadFileAsync(file, $"{prefix}/{relative}", cancellationToken).ConfigureAwait(false);
        }

        return files.Count;
    }

    /// <summary>Uploads <paramref name="localFile"/> to <paramref name="path"/>, committed once it is whole.</summary>
    /// <param name="store">The store.</param>
    /// <param name="localFile">The file to upload.</param>
    /// <param name="path">The artifact's key.</param>
    /// <param name="cancellationToken">Cancels the upload; nothing is committed then.</param>
    /// <returns>Completes when the artifact is committed.</returns>
    public static async Task UploadFileAsync(this IArtifactStore store, string localFile, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(localFile);
        var source = new FileStream(localFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (source.ConfigureAwait(false))
        {
            var upload = await store.OpenWriteAsync(path, cancellationToken).ConfigureAwait(false);
            await using (upload.ConfigureAwait(false))
            {
                await source.CopyToAsync(upload, 1 << 20, cancellationToken).ConfigureAwait(false);
                await upload.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Downloads every artifact under "{prefix}/" into <paramref name="localFolder"/>, each file written to a temporary
    /// name and renamed, so a partly downloaded folder never holds a partial file.
    /// </summary>
    /// <param name="store">The store.</param>
    /// <param name="prefix">The artifact folder, without a trailing '/'.</param>
    /// <param name="localFolder">Where to write the files.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The number of files downloaded.</returns>
    public static async Task<int> DownloadFolderAsync(this IArtifactStore store, string prefix, string localFolder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(localFolder);
        ArtifactPaths.Validate(prefix);
        var root = Path.GetFullPath(localFolder);
        var folderPrefix = prefix + "/";
        var count = 0;
        await foreach (var item in store.ListAsync(folderPrefix, cancellationToken).ConfigureAwait(false))
        {
            var relative = item.Path[folderPrefix.Length..];
            await store.DownloadFileAsync(item.Path, Path.GetFullPath(Path.Combine(root, relative)), cancellationToken).ConfigureAwait(false);
            count++;
        }

        return count;
    }

    /// <summary>
    /// Downloads artifact <paramref name="path"/> to <paramref name="localFile"/> (its folder is created); the file
    /// appears whole or not at all.
    /// </summary>
    /// <param name="store">The store.</param>
    /// <param name="path">The artifact path.</param>
    /// <param name="localFile">Where to write it.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <exception cref="FileNotFoundException">No such artifact.</exception>
    public static async Task DownloadFileAsync(this IArtifactStore store, string path, string localFile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArtifactPaths.Validate(path);
        await PartFile.WriteAsync(localFile, async destination =>
        {
            var source = await store.OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                await source.CopyToAsync(destination, 1 << 20, cancellationToken).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
    }
}
