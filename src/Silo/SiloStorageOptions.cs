using FuseChat.Grains.Storage;

namespace FuseChat.Silo;

/// <summary>Blob storage of a <see cref="SiloMode.Cluster"/> silo (configuration section FuseChat:Storage).</summary>
public sealed class SiloStorageOptions
{
    /// <summary>An Azure Storage connection string (Azurite works). Secret: never logged.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The container of grain state.</summary>
    public string GrainContainer { get; set; } = "grainstate";

    /// <summary>The container of artifacts (checkpoints, shards, merged models).</summary>
    public string ArtifactContainer { get; set; } = "artifacts";

    /// <summary>
    /// Whether run workers hand their artifacts to each other through the artifact store (FuseChat:Storage:MirrorArtifacts),
    /// so that a cluster without a shared volume survives the loss of a silo's local disk. Null means the mode's default:
    /// on in <see cref="SiloMode.Cluster"/>, off in <see cref="SiloMode.Embedded"/> (whose store is a local folder anyway).
    /// </summary>
    public bool? MirrorArtifacts { get; set; }

    /// <summary>Whether artifacts are mirrored in <paramref name="mode"/>: <see cref="MirrorArtifacts"/>, else the mode's default.</summary>
    /// <param name="mode">The silo's mode.</param>
    /// <returns>True when workers push and pull their artifacts through the store.</returns>
    public bool MirrorsArtifacts(SiloMode mode) => MirrorArtifacts ?? mode == SiloMode.Cluster;

    /// <summary>
    /// What happens to a run's mirrored artifacts once it has ended (FuseChat:Storage:ArtifactRetention). The default,
    /// <see cref="ArtifactRetention.DeleteWorkOnSuccess"/>, deletes a completed run's work (shards, checkpoints, merge
    /// staging) and keeps its outputs; failed and cancelled runs keep everything for inspection. Only matters while
    /// artifacts are mirrored.
    /// </summary>
    public ArtifactRetention ArtifactRetention { get; set; } = ArtifactRetention.DeleteWorkOnSuccess;
}
