namespace FuseChat.Client.Api;

/// <summary>What an upload or download did.</summary>
/// <param name="Transferred">Files sent or fetched.</param>
/// <param name="Skipped">Files already there with the same length (an earlier, interrupted transfer got them across).</param>
/// <param name="Bytes">Bytes sent or fetched.</param>
/// <param name="Hidden">Files left out because a segment of their path starts with '.' (.git, .cache).</param>
public sealed record TransferSummary(int Transferred, int Skipped, long Bytes, int Hidden);
