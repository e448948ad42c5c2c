using Azure.Storage.Blobs;
using FuseChat.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using Xunit.Abstractions;

namespace FuseChat.Grains.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobGrainStorageTests(AzuriteFixture azurite, ITestOutputHelper output) : GrainStorageContractTests
{
    private readonly string _container = "state-" + Guid.NewGuid().ToString("N")[..12];

    protected override IGrainStorage CreateStorage(bool deleteStateOnClear = true) =>
        new AzureBlobGrainStorage("test", Options(deleteStateOnClear), TestSerialization.Json, TestSerialization.Activators);

    private AzureBlobGrainStorageOptions Options(bool deleteStateOnClear = true, string? connectionString = null) => new()
    {
        ConnectionString = connectionString ?? azurite.ConnectionString,
        ContainerName = _container,
        DeleteStateOnClear = deleteStateOnClear,
    };

    [Fact]
    public async Task Missing_container_is_created_on_first_write()
    {
        var container = new BlobContainerClient(azurite.ConnectionString, _container);
        Assert.False((await container.ExistsAsync()).Value);
        var grain = GrainId.Create("fusionrun", "first");
        await CreateStorage().WriteStateAsync("run", grain, new GrainState<RunState>(TestSerialization.Sample()));
        Assert.True((await container.ExistsAsync()).Value);
        var names = new List<string>();
        await foreach (var blob in container.GetBlobsAsync())
        {
            names.Add(blob.Name);
        }

        // Orleans' naming, with '/' of the grain id escaped so states do not form virtual folders.
        Assert.Equal(["run-fusionrun~2Ffirst.json"], names);
    }

    [Fact]
    public async Task Container_deleted_behind_the_provider_is_created_again()
    {
        var storage = CreateStorage();
        await storage.WriteStateAsync("run", GrainId.Create("fusionrun", "a"), new GrainState<RunState>(TestSerialization.Sample()));
        await new BlobContainerClient(azurite.ConnectionString, _container).DeleteAsync();
        // Azurite deletes at once; the real service may take a while and answer 409 ContainerBeingDeleted meanwhile.
        await storage.WriteStateAsync("run", GrainId.Create("fusionrun", "b"), new GrainState<RunState>(TestSerialization.Sample()));
    }

    [Theory]
    [InlineData("write")]
    [InlineData("read")]
    public async Task Outage_fails_with_a_message_naming_container_and_operation_without_the_key(string operation)
    {
        var options = Options(connectionString: AzuriteFixture.ConnectionStringFor(AzuriteFixture.UnusedPort()));
        options.ClientOptions = new BlobClientOptions();
        options.ClientOptions.Retry.MaxRetries = 1;
        options.ClientOptions.Retry.Delay = TimeSpan.FromMilliseconds(10);
        var storage = new AzureBlobGrainStorage("down", options, TestSerialization.Json, TestSerialization.Activators);
        var state = new GrainState<RunState>(TestSerialization.Sample());

        var failure = await Assert.ThrowsAsync<StorageOperationException>(() => operation == "write"
            ? storage.WriteStateAsync("run", GrainId.Create("fusionrun", "x"), state)
            : storage.ReadStateAsync("run", GrainId.Create("fusionrun", "x"), state));

        output.WriteLine(failure.Message);
        Assert.Contains(_container, failure.Message, StringComparison.Ordinal);
        Assert.Contains($"{operation} of 'run-fusionrun~2Fx.json'", failure.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, failure.Status);
        Assert.DoesNotContain(AzuriteFixture.AccountKey, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AzuriteFixture.AccountKey, failure.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("AccountKey", failure.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Options_without_a_connection_say_what_to_set()
    {
        var e = Assert.Throws<OrleansConfigurationException>(() => new AzureBlobGrainStorageOptions().Validate("grains"));
        Assert.Contains("'grains'", e.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionString", e.Message, StringComparison.Ordinal);
        Assert.Contains("ServiceUri", e.Message, StringComparison.Ordinal);

        var noCredential = new AzureBlobGrainStorageOptions { ServiceUri = new Uri("https://acct.blob.core.windows.net") };
        Assert.Contains("TokenCredential", Assert.Throws<OrleansConfigurationException>(() => noCredential.Validate("grains")).Message, StringComparison.Ordinal);

        var badContainer = new AzureBlobGrainStorageOptions { ConnectionString = azurite.ConnectionString, ContainerName = "Grain_State" };
        Assert.Contains("Grain_State", Assert.Throws<OrleansConfigurationException>(() => badContainer.Validate("grains")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_connection_string_is_rejected_without_being_echoed()
    {
        var secret = "AccountName=x;AccountKey=c2VjcmV0LWtleS12YWx1ZQ==;Nonsense";
        var e = Assert.Throws<OrleansConfigurationException>(() => new AzureBlobGrainStorageOptions { ConnectionString = secret }.Validate("grains"));
        Assert.DoesNotContain("c2VjcmV0", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Registration_resolves_a_named_provider_that_works()
    {
        var services = new ServiceCollection().AddLogging().AddSerializer();
        services.AddSingleton(TestSerialization.Json);
        services.AddAzureBlobGrainStorage("blobs", o =>
        {
            o.ConnectionString = azurite.ConnectionString;
            o.ContainerName = _container;
        });
        await using var provider = services.BuildServiceProvider();
        var storage = provider.GetRequiredKeyedService<IGrainStorage>("blobs");
        Assert.IsType<AzureBlobGrainStorage>(storage);
        foreach (var validator in provider.GetServices<IConfigurationValidator>())
        {
            validator.ValidateConfiguration();
        }

        var state = new GrainState<RunState>(TestSerialization.Sample());
        await storage.WriteStateAsync("run", GrainId.Create("fusionrun", "registered"), state);
        Assert.NotNull(state.ETag);
    }
}
