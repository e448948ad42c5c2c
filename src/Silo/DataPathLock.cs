using Orleans.Runtime;

namespace FuseChat.Silo;

/// <summary>
/// An embedded silo's claim on its <see cref="FuseChatSiloOptions.DataPath"/>: the file grain storage and the reminder
/// table assume one process, so a second silo (or <c>fusechat run --local</c>) over the same folder is refused at
/// start rather than left to overwrite the first one's state. The lock is the operating system's (flock on Linux)
/// and goes with the process, so a crash leaves nothing to clean up.
/// </summary>
public sealed class DataPathLock : IDisposable
{
    /// <summary>The lock file's name in the data folder.</summary>
    public const string FileName = "silo.lock";

    private readonly FileStream _stream;

    private DataPathLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock on <paramref name="dataPath"/>, creating the folder.</summary>
    /// <param name="dataPath">The embedded silo's data folder.</param>
    /// <returns>The held lock; dispose it to release.</returns>
    /// <exception cref="OrleansConfigurationException">Another process holds it.</exception>
    public static DataPathLock Acquire(string dataPath)
    {
        var folder = Path.GetFullPath(dataPath);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            using (var writer = new StreamWriter(stream, leaveOpen: true))
            {
                writer.Write($"pid {Environment.ProcessId}\n");
            }

            stream.Flush();
            return new DataPathLock(stream);
        }
        catch (IOException e)
        {
            throw new OrleansConfigurationException(
                $"Another FuseChat process uses the data folder {folder} ({path} is locked): stop it, or give this one its own folder with --FuseChat:DataPath.", e);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();
}
