using Orleans.Concurrency;

namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>
/// Drives one fusion run (key: the run id; no '/'). Representations of the pivot and every source, then
/// per source alignment and pairwise fusion (sources proceed in parallel as soon as their inputs are
/// ready), then the merge and the evaluation. Calls return at once; the work runs in worker grains.
/// </summary>
public interface IFusionRunGrain : IGrainWithStringKey
{
    /// <summary>
    /// Validates the spec (YAML; relative paths are resolved against <paramref name="specDirectory"/>) and,
    /// when valid, persists it and starts the run. An invalid spec is rejected with every problem in
    /// <see cref="RunStatus.Problems"/> and nothing is started. Starting again with the same spec returns the status.
    /// </summary>
    /// <param name="specText">The run spec, YAML.</param>
    /// <param name="specDirectory">Folder the spec's relative paths are relative to.</param>
    Task<RunStatus> StartAsync(string specText, string specDirectory);

    /// <summary>The run's status.</summary>
    Task<RunStatus> GetStatusAsync();

    /// <summary>Events with a sequence number greater than <paramref name="afterSequence"/> (0 for all).</summary>
    /// <param name="afterSequence">The last sequence number already seen.</param>
    Task<IReadOnlyList<RunEvent>> GetEventsAsync(long afterSequence);

    /// <summary>Stops every worker and marks the run Cancelled; no-op on a finished run.</summary>
    Task<RunStatus> CancelAsync();

    /// <summary>
    /// A worker's notice that its work ended; the run grain then advances. One-way: a lost notice is harmless
    /// because the run grain also polls its workers on every reminder tick.
    /// </summary>
    /// <param name="workerKey">The worker grain's key.</param>
    [OneWay]
    Task OnWorkerFinishedAsync(string workerKey);
}
