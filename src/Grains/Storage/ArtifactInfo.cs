namespace FuseChat.Grains.Storage;

/// <summary>A committed artifact.</summary>
/// <param name="Path">Its '/'-separated path in the store.</param>
/// <param name="Length">Its size in bytes.</param>
/// <param name="LastModified">When it was committed.</param>
public sealed record ArtifactInfo(string Path, long Length, DateTimeOffset LastModified);
