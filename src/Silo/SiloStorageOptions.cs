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
}
