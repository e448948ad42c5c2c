namespace FuseChat.Grains.Runs;

/// <summary>Stopping a grain's background task when the grain deactivates.</summary>
internal static class BackgroundWork
{
    /// <summary>
    /// Cancels <paramref name="cancellation"/> and waits for <paramref name="task"/> until the deactivation's own
    /// deadline (<paramref name="deadline"/>); past it, the task is left to finish on its own. Callers' work is
    /// resumable, so a task cut short is picked up again by the next activation or reminder.
    /// </summary>
    public static async Task StopAsync(CancellationTokenSource? cancellation, Task? task, CancellationToken deadline)
    {
        if (cancellation is not null) await cancellation.CancelAsync();
        if (task is null) return;
        try
        {
            await task.WaitAsync(deadline);
        }
        catch (OperationCanceledException)
        {
            // The deadline passed, or the task ended by the cancellation it was asked for.
        }
    }
}
