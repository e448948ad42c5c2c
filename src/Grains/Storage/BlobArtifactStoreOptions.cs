using Azure.Core;
using Azure.Storage.Blobs;

namespace FuseChat.Grains.Storage;

/// <summary>Settings of <see cref="BlobArtifactStore"/>.</summary>
public sealed class BlobArtifactStoreOptions
{
    /// <summary>The default container for artifacts.</summary>
    public const string DefaultContainerName = "artifacts";

    /// <summary>The default block size: 8 MiB.</summary>
    public const int DefaultBlockSize = 8 * 1024 * 1024;

    /// <summary>An Azure Storage connection string (account key or SAS). Never logged. Exclusive with <see cref="ServiceUri"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The blob service endpoint, used with <see cref="TokenCredential"/>.</summary>
    public Uri? ServiceUri { get; set; }

    /// <summary>The Entra ID credential used with <see cref="ServiceUri"/>.</summary>
    public TokenCredential? TokenCredential { get; set; }

    /// <summary>The container holding artifacts; created on first upload. Defaults to "artifacts".</summary>
    public string ContainerName { get; set; } = DefaultContainerName;

    /// <summary>
    /// Bytes per staged block (1 MiB to 100 MiB). One block is buffered per open upload; a blob holds at most
    /// 50,000 blocks, so 8 MiB blocks allow artifacts up to about 390 GiB.
    /// </summary>
    public int BlockSize { get; set; } = DefaultBlockSize;

    /// <summary>Client settings such as retries and timeouts; null uses the client's defaults.</summary>
    public BlobClientOptions? ClientOptions { get; set; }

    /// <summary>Throws an <see cref="Orleans.Runtime.OrleansConfigurationException"/> that says what to fix.</summary>
    public void Validate()
    {
        BlobStorageConnection.Validate("Blob artifact store", ConnectionString, ServiceUri, TokenCredential, ContainerName);
        if (BlockSize is < 1024 * 1024 or > 100 * 1024 * 1024)
        {
            throw new Orleans.Runtime.OrleansConfigurationException($"Blob artifact store: BlockSize {BlockSize} is outside 1 MiB to 100 MiB.");
        }
    }
}
