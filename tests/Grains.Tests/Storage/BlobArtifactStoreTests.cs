using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class BlobArtifactStoreTests : ArtifactStoreContractTests
{
    private readonly AzuriteFixture _azurite;
    private readonly string _container = "artifacts-" + Guid.NewGuid().ToString("N")[..12];

    public BlobArtifactStoreTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
        Store = new BlobArtifactStore(new BlobArtifactStoreOptions { ConnectionString = azurite.ConnectionString, ContainerName = _container });
    }

    protected override IArtifactStore Store { get; }

    protected override async Task AssertNoLeftoversAsync()
    {
        // Staged blocks exist only as uncommitted blocks, invisible to listings and reads.
        var container = new BlobContainerClient(_azurite.ConnectionString, _container);
        await foreach (var blob in container.GetBlobsAsync(new GetBlobsOptions { Prefix = "runs/r2/" }))
        {
            Assert.Fail($"unexpected blob {blob.Name}");
        }
    }

    [Fact]
    public async Task Uploads_are_committed_as_several_8_MiB_blocks()
    {
        var data = new byte[20 * 1024 * 1024];
        new Random(9).NextBytes(data);
        await using (var upload = await Store.OpenWriteAsync("blocks/check"))
        {
            await upload.WriteAsync(data);
            await upload.CommitAsync();
        }

        var blob = new BlockBlobClient(_azurite.ConnectionString, _container, "blocks/check");
        var blocks = (await blob.GetBlockListAsync(BlockListTypes.Committed)).Value.CommittedBlocks.ToList();
        Assert.Equal([8L * 1024 * 1024, 8L * 1024 * 1024, 4L * 1024 * 1024], blocks.Select(b => b.SizeLong));
    }

    [Fact]
    public async Task Outage_names_the_container_without_the_key()
    {
        var options = new BlobArtifactStoreOptions
        {
            ConnectionString = AzuriteFixture.ConnectionStringFor(AzuriteFixture.UnusedPort()),
            ContainerName = _container,
            ClientOptions = new BlobClientOptions(),
        };
        options.ClientOptions.Retry.MaxRetries = 0;
        var store = new BlobArtifactStore(options);
        var failure = await Assert.ThrowsAsync<StorageOperationException>(() => store.ExistsAsync("x/y"));
        Assert.Contains(_container, failure.Message, StringComparison.Ordinal);
        Assert.Contains("exists", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AzuriteFixture.AccountKey, failure.ToString(), StringComparison.Ordinal);
    }
}
