using Azure.Core;
using Azure.Storage.Blobs;
using Orleans.Runtime;

namespace FuseChat.Grains.Storage;

/// <summary>Checks connection settings and builds blob clients, for grain state and artifacts alike.</summary>
internal static class BlobStorageConnection
{
    public static void Validate(string what, string? connectionString, Uri? serviceUri, TokenCredential? credential, string? containerName)
    {
        var hasConnectionString = !string.IsNullOrWhiteSpace(connectionString);
        if (hasConnectionString && serviceUri is not null)
        {
            throw new OrleansConfigurationException($"{what}: set either ConnectionString or ServiceUri with TokenCredential, not both.");
        }

        if (!hasConnectionString && serviceUri is null)
        {
            throw new OrleansConfigurationException($"{what}: set ConnectionString, or ServiceUri with TokenCredential (for example DefaultAzureCredential).");
        }

        if (serviceUri is not null && credential is null)
        {
            throw new OrleansConfigurationException($"{what}: ServiceUri '{serviceUri.GetLeftPart(UriPartial.Path)}' needs a TokenCredential.");
        }

        if (serviceUri is not null && !serviceUri.IsAbsoluteUri)
        {
            throw new OrleansConfigurationException($"{what}: ServiceUri must be an absolute URI such as https://account.blob.core.windows.net.");
        }

        if (!IsValidContainerName(containerName))
        {
            throw new OrleansConfigurationException(
                $"{what}: ContainerName '{containerName}' is not a valid blob container name (3-63 characters: lowercase letters, digits and single hyphens, starting and ending with a letter or digit).");
        }

        if (hasConnectionString)
        {
            try
            {
                _ = new BlobServiceClient(connectionString);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                // The parser's message can quote the string: report the problem without it.
                throw new OrleansConfigurationException($"{what}: ConnectionString is not a valid Azure Storage connection string ({e.GetType().Name}).");
            }
        }
    }

    public static BlobContainerClient CreateContainerClient(string? connectionString, Uri? serviceUri, TokenCredential? credential, string containerName, BlobClientOptions? clientOptions)
    {
        var service = !string.IsNullOrWhiteSpace(connectionString)
            ? new BlobServiceClient(connectionString, clientOptions)
            : new BlobServiceClient(serviceUri!, credential!, clientOptions);
        return service.GetBlobContainerClient(containerName);
    }

    public static bool IsValidContainerName(string? name)
    {
        if (name is null || name.Length is < 3 or > 63)
        {
            return false;
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var ok = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') || (c == '-' && i > 0 && i < name.Length - 1 && name[i - 1] != '-');
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
