namespace FuseChat.Client.Api;

/// <summary>Where an upload or download of several files stands.</summary>
/// <param name="File">The artifact path being transferred.</param>
/// <param name="FilesDone">Files finished, skipped ones included.</param>
/// <param name="FilesTotal">Files in all.</param>
/// <param name="BytesDone">Bytes transferred or skipped so far.</param>
/// <param name="BytesTotal">Bytes in all.</param>
public sealed record TransferProgress(string File, int FilesDone, int FilesTotal, long BytesDone, long BytesTotal);
