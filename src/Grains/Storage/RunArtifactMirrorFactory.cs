using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Storage;

/// <summary>Makes <see cref="RunArtifactMirror"/>s over the silo's <see cref="IArtifactStore"/>.</summary>
/// <param name="store">The store that outlives silos.</param>
/// <param name="stallTimeout">How long one step of a transfer may make no progress; null for <see cref="RunArtifactMirror.DefaultStallTimeout"/>.</param>
/// <param name="loggerFactory">Where the mirrors log; null for none.</param>
public sealed class RunArtifactMirrorFactory(IArtifactStore store, TimeSpan? stallTimeout = null, ILoggerFactory? loggerFactory = null) : IRunArtifactMirrorFactory
{
    /// <summary>The store.</summary>
    public IArtifactStore Store { get; } = store ?? throw new ArgumentNullException(nameof(store));

    /// <inheritdoc />
    public RunArtifactMirror Create(string runId, string outputFolder) =>
        new(Store, runId, outputFolder, stallTimeout, loggerFactory?.CreateLogger<RunArtifactMirror>());
}
