using Azure.Core;
using Azure.Storage.Blobs;
using Orleans.Storage;

namespace FuseChat.Grains.Storage;

/// <summary>Settings of <see cref="AzureBlobGrainStorage"/>.</summary>
public sealed class AzureBlobGrainStorageOptions
{
    /// <summary>The default container for grain state.</summary>
    public const string DefaultContainerName = "grainstate";

    /// <summary>An Azure Storage connection string (account key or SAS). Never logged. Exclusive with <see cref="ServiceUri"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The blob service endpoint, such as https://account.blob.core.windows.net; used with <see cref="TokenCredential"/>.</summary>
    public Uri? ServiceUri { get; set; }

    /// <summary>The Entra ID credential used with <see cref="ServiceUri"/> (for example a workload identity).</summary>
    public TokenCredential? TokenCredential { get; set; }

    /// <summary>The container holding one blob per grain state; created on first write. Defaults to "grainstate".</summary>
    public string ContainerName { get; set; } = DefaultContainerName;

    /// <summary>
    /// When true (Orleans' default for its blob provider is false), clearing a state deletes its blob; when false it
    /// leaves an empty blob as a tombstone, which keeps an ETag so a stale activation still conflicts after the clear.
    /// </summary>
    public bool DeleteStateOnClear { get; set; }

    /// <summary>Client settings such as retries and timeouts; null uses the client's defaults.</summary>
    public BlobClientOptions? ClientOptions { get; set; }

    /// <summary>The state serializer; null uses the silo's <see cref="IGrainStorageSerializer"/>.</summary>
    public IGrainStorageSerializer? GrainStorageSerializer { get; set; }

    /// <summary>Throws an <see cref="Orleans.Runtime.OrleansConfigurationException"/> that says what to fix.</summary>
    /// <param name="name">The provider name, quoted in messages.</param>
    public void Validate(string name) =>
        BlobStorageConnection.Validate($"Azure blob grain storage '{name}'", ConnectionString, ServiceUri, TokenCredential, ContainerName);
}
