namespace FuseChat.Grains.Storage;

/// <summary>
/// A local file written whole or not at all: into "{path}.{guid}.part" beside it, then renamed over it. Downloads from
/// the artifact store (the run mirror's, a folder's, a client's over HTTP) go through here, so that a reader never
/// opens a partial file and the mirror never pushes one (<see cref="RunArtifactMirror.IsTemporary"/> skips the
/// suffix).
/// </summary>
public static class PartFile
{
    /// <summary>The suffix of a file being written.</summary>
    public const string Suffix = ".part";

    /// <summary>
    /// Creates <paramref name="path"/>'s folder, lets <paramref name="write"/> fill a temporary file beside it and
    /// renames that over <paramref name="path"/>; when anything fails, the temporary file is deleted and the error
    /// goes on.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="write">Writes the content into the stream it is given.</param>
    /// <returns>Completes when the file is in place.</returns>
    public static async Task WriteAsync(string path, Func<Stream, Task> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var temporary = $"{path}.{Guid.NewGuid():N}{Suffix}";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var destination = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (destination.ConfigureAwait(false))
            {
                await write(destination).ConfigureAwait(false);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover .part file is a temporary: never pushed, overwritten by nothing, harmless.
        }
    }
}
