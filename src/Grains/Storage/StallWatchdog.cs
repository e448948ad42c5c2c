namespace FuseChat.Grains.Storage;

/// <summary>
/// A store operation's stall watchdog: a token that cancels when the caller's does, or when no progress was made for
/// the stall timeout. Callers push the deadline out with <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>
/// whenever a step completes, so a long but moving transfer is never cut.
/// </summary>
internal static class StallWatchdog
{
    /// <summary>Starts a watchdog linked to <paramref name="cancellationToken"/> that fires after <paramref name="stallTimeout"/>.</summary>
    public static CancellationTokenSource Start(CancellationToken cancellationToken, TimeSpan stallTimeout)
    {
        var watchdog = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        watchdog.CancelAfter(stallTimeout);
        return watchdog;
    }
}
