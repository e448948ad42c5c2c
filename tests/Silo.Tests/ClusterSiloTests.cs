using System.Net;
using FuseChat.Grains.Storage;
using FuseChat.Grains.Tests.Storage;
using FuseChat.Silo.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace FuseChat.Silo.Tests;

public sealed class ClusterSiloTests(ClusterSiloFixture fixture) : IClassFixture<ClusterSiloFixture>
{
    private Dictionary<string, string?> ClusterSettings(string? token) => new()
    {
        ["FuseChat:Mode"] = "Cluster",
        ["FuseChat:Redis"] = fixture.Redis.ConnectionString,
        ["FuseChat:Storage:ConnectionString"] = fixture.Azurite.ConnectionString,
        ["FuseChat:ClusterId"] = "test-" + Guid.NewGuid().ToString("N")[..8],
        ["FuseChat:ServiceId"] = "fusechat-tests",
        ["FuseChat:ApiToken"] = token,
        // What the pod's downward API would provide.
        ["POD_IP"] = "127.0.0.1",
        ["POD_NAME"] = "silo-test-0",
    };

    [Fact]
    public async Task Cluster_mode_on_redis_and_azurite_becomes_ready_and_stores_artifacts_in_blobs()
    {
        await using var silo = await RunningSilo.StartAsync(ClusterSettings("cluster-token-1"));
        var (status, body) = await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(45));
        Assert.True(status == HttpStatusCode.OK, $"/readyz: {(int)status} {body}");

        var localSilo = silo.App.Services.GetRequiredService<ILocalSiloDetails>();
        Assert.Equal("silo-test-0", localSilo.Name);
        Assert.Equal(IPAddress.Loopback, localSilo.SiloAddress.Endpoint.Address);

        var store = Assert.IsType<BlobArtifactStore>(silo.App.Services.GetRequiredService<IArtifactStore>());
        await using (var upload = await store.OpenWriteAsync("probe/cluster.txt"))
        {
            await upload.WriteAsync("hello"u8.ToArray());
            await upload.CommitAsync();
        }

        Assert.True(await store.ExistsAsync("probe/cluster.txt"));
    }

    [Fact]
    public void Cluster_mode_without_an_api_token_fails_startup_naming_the_setting()
    {
        var args = ClusterSettings(token: null).SelectMany(p => new[] { "--" + p.Key, p.Value ?? string.Empty }).ToArray();
        var error = Assert.Throws<OrleansConfigurationException>(() => SiloHost.CreateBuilder(args));
        Assert.Contains("FuseChat:ApiToken", error.Message, StringComparison.Ordinal);
        Assert.Contains("FUSECHAT__APITOKEN", error.Message, StringComparison.Ordinal);
        // Secrets in other settings must not leak into the message.
        Assert.DoesNotContain(AzuriteFixture.AccountKey, error.Message, StringComparison.Ordinal);
    }
}
