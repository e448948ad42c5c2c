namespace FuseChat.Grains.Storage;

/// <summary>What one <see cref="RunArtifactCleaner.DeleteWorkAsync"/> pass did.</summary>
/// <param name="DeletedFiles">Artifacts deleted by this pass.</param>
/// <param name="DeletedBytes">Their total size.</param>
/// <param name="KeptFiles">Artifacts under the run's prefix that were kept as outputs.</param>
/// <param name="KeptBytes">Their total size.</param>
/// <param name="Failure">Why the pass stopped early (the store failed or stalled); null when every work artifact is gone.</param>
public sealed record RunArtifactCleanupResult(int DeletedFiles, long DeletedBytes, int KeptFiles, long KeptBytes, StorageOperationException? Failure)
{
    /// <summary>Whether no work artifact is left under the run's prefix.</summary>
    public bool Complete => Failure is null;
}
