namespace FuseChat.Grains.Storage;

/// <summary>
/// What happens to a run's mirrored artifacts (store keys "runs/{run}/...") once the run has ended. Outputs (the fused
/// model, report.json, report.md and each source's final target model) are always kept; the work is what only a
/// running or resumed run reads: representation and aligned shards, training checkpoints, the merge's staging folder.
/// </summary>
public enum ArtifactRetention
{
    /// <summary>Nothing is ever deleted: every checkpoint pushed stays until an operator deletes "runs/{run}/".</summary>
    KeepAll,

    /// <summary>
    /// The work of a completed run is deleted; failed and cancelled runs keep everything, so that an operator can
    /// inspect them or take their checkpoints for another run. The default.
    /// </summary>
    DeleteWorkOnSuccess,

    /// <summary>The work of every ended run is deleted: completed at once, failed and cancelled a reminder tick later.</summary>
    DeleteWorkAlways,
}
