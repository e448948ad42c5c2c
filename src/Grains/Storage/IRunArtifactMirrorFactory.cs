namespace FuseChat.Grains.Storage;

/// <summary>
/// Registered by a silo whose workers hand artifacts to each other through the artifact store (no shared volume).
/// Worker grains take it as an optional service: without it they read and write the output folder only.
/// </summary>
public interface IRunArtifactMirrorFactory
{
    /// <summary>A mirror of one run's output folder.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="outputFolder">The run's local output folder.</param>
    /// <returns>The mirror.</returns>
    RunArtifactMirror Create(string runId, string outputFolder);
}
