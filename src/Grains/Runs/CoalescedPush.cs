namespace FuseChat.Grains.Runs;

/// <summary>
/// A stage worker's uploads of its outputs, run beside its progress loop instead of inside it: while files upload the
/// loop keeps copying the library's progress into the status (and a status request sees the current step, not the one
/// the upload started at). One push runs at a time; units finished meanwhile fold into a single push after it, which
/// uploads whatever is new by then. Used only from the grain's scheduler, so it needs no lock.
/// </summary>
internal sealed class CoalescedPush(Func<CancellationToken, Task> push)
{
    private Task? _running;
    private bool _pending;

    /// <summary>Starts a push, or folds the request into the one after the push already running.</summary>
    public void Request(CancellationToken cancellationToken)
    {
        if (_running is null) _running = push(cancellationToken);
        else _pending = true;
    }

    /// <summary>When the running push has ended: rethrows its failure, or starts the folded request.</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        if (_running is not { IsCompleted: true } done) return;
        _running = null;
        await done;
        StartPending(cancellationToken);
    }

    /// <summary>Waits for the running push and any folded request; rethrows the first failure.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (_running is { } running)
        {
            _running = null;
            await running;
            StartPending(cancellationToken);
        }
    }

    /// <summary>
    /// Leaves a push still running to end on its own (the work failed or stopped and its token is cancelled); its
    /// failure, if any, is observed here rather than surfacing as an unobserved task exception.
    /// </summary>
    public void Abandon()
    {
        _pending = false;
        _running?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        _running = null;
    }

    private void StartPending(CancellationToken cancellationToken)
    {
        if (!_pending) return;
        _pending = false;
        _running = push(cancellationToken);
    }
}
