using FuseChat.Grains.Interfaces.Runs;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Spreads units of work over worker grains from a coordinator's background job: keeps at most a given number
/// unfinished at once, re-sends every active unit its (idempotent) start call on each poll, which also restarts a
/// unit whose silo was lost, and returns when all are complete. Runs on the coordinator's thread-pool thread and
/// blocks it: the coordinator has nothing else to do meanwhile, and its grain stays free to answer status calls.
/// </summary>
internal static class WorkerFanOut
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>One unit: a name for messages and its start call.</summary>
    /// <param name="Name">E.g. "shard 3".</param>
    /// <param name="Start">The worker's StartAsync with the unit's work.</param>
    /// <param name="Weight">Its share of the overall progress, relative to the others'.</param>
    public sealed record Unit(string Name, Func<Task<WorkStatus>> Start, double Weight = 1);

    /// <summary>Runs <paramref name="units"/> to completion with at most <paramref name="parallel"/> active.</summary>
    /// <param name="units">The units, started in this order.</param>
    /// <param name="parallel">Units active at once (at least 1).</param>
    /// <param name="report">Completed units and the overall fraction, after every poll.</param>
    /// <param name="cancellationToken">Stops waiting (the units keep their own state).</param>
    /// <exception cref="InvalidOperationException">A unit failed or was cancelled (the message names it and its error).</exception>
    public static void Run(IReadOnlyList<Unit> units, int parallel, Action<int, double> report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(units);
        var statuses = new WorkStatus?[units.Count];
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var active = Enumerable.Range(0, units.Count).Where(i => statuses[i] is not { State: RunState.Completed }).Take(Math.Max(1, parallel)).ToList();
            if (active.Count == 0) return;
            var calls = active.Select(async i =>
            {
                try
                {
                    statuses[i] = await units[i].Start().WaitAsync(CallTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OrleansException or TimeoutException)
                {
                    // A silo is leaving or the unit's silo is gone and not yet declared dead: ask again next poll.
                }
            });
            Task.WhenAll(calls).GetAwaiter().GetResult();
            for (var i = 0; i < units.Count; i++)
            {
                if (statuses[i] is { State: RunState.Failed or RunState.Cancelled } bad)
                    throw new InvalidOperationException($"{units[i].Name} {(bad.State == RunState.Failed ? "failed: " + bad.Error : "was cancelled")}");
            }

            var done = statuses.Count(s => s is { State: RunState.Completed });
            var fraction = statuses.Select((s, i) => (s is null ? 0 : s.State == RunState.Completed ? 1 : s.Progress) * units[i].Weight).Sum();
            report(done, fraction / Math.Max(units.Sum(u => u.Weight), double.Epsilon));
            if (done == units.Count) return;
            cancellationToken.WaitHandle.WaitOne(PollInterval);
        }
    }
}
