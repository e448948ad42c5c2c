namespace FuseChat.Grains.Storage;

/// <summary>Running totals of bytes moved by an artifact store; thread-safe, to be read by metrics.</summary>
public sealed class ArtifactTransferCounters
{
    private long _bytesWritten;
    private long _bytesRead;

    /// <summary>Bytes sent to storage (staged blocks or written to temporary files), committed or not.</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Bytes read back from storage.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Adds to <see cref="BytesWritten"/>.</summary>
    /// <param name="bytes">The count to add.</param>
    public void AddWritten(long bytes) => Interlocked.Add(ref _bytesWritten, bytes);

    /// <summary>Adds to <see cref="BytesRead"/>.</summary>
    /// <param name="bytes">The count to add.</param>
    public void AddRead(long bytes) => Interlocked.Add(ref _bytesRead, bytes);
}
