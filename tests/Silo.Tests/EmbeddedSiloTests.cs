using System.Net;
using System.Net.Http.Headers;
using FuseChat.Grains.Storage;
using FuseChat.Grains.Telemetry;
using FuseChat.Silo.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FuseChat.Silo.Tests;

public sealed class EmbeddedSiloTests(EmbeddedSiloFixture fixture) : IClassFixture<EmbeddedSiloFixture>
{
    private RunningSilo Silo => fixture.Silo;

    [Fact]
    public async Task Healthz_answers_200()
    {
        using var response = await Silo.Http.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_answers_200_once_the_silo_is_active()
    {
        var (status, body) = await Silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        Assert.True(status == HttpStatusCode.OK, $"/readyz: {(int)status} {body}");
        Assert.Contains("\"activeSilos\":1", body, StringComparison.Ordinal);
    }

    [Fact]
    public void Embedded_mode_uses_the_file_artifact_store_under_the_data_folder()
    {
        var store = Assert.IsType<FileArtifactStore>(Silo.App.Services.GetRequiredService<IArtifactStore>());
        Assert.Equal(Path.Combine(Silo.DataPath, "artifacts"), store.Folder);
    }

    [Fact]
    public async Task Metrics_are_prometheus_text_with_fusechat_and_orleans_series_that_promtool_accepts()
    {
        await Silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        var metrics = Silo.App.Services.GetRequiredService<FuseChatMetrics>();
        metrics.SetRunState("run-1", "running");
        metrics.SetRunState("run-2", "completed");
        metrics.RecordStageProgress("run-1", "train", 0.25);
        metrics.RecordTokens("train", 4096);
        metrics.RecordTokensPerSecond("run-1", "train", 812.5);
        metrics.RecordTrainingLoss("run-1", "total", 2.31);
        metrics.RecordCheckpoint(TimeSpan.FromSeconds(1.5), 1 << 20, "train");
        metrics.RecordArtifactBytes(FuseChatMetrics.Download, 1234);
        var store = Silo.App.Services.GetRequiredService<IArtifactStore>();
        await using (var upload = await store.OpenWriteAsync("probe/a.bin"))
        {
            await upload.WriteAsync(new byte[4321]);
            await upload.CommitAsync();
        }

        using var response = await Silo.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);

        foreach (var expected in new[]
                 {
                     "fusechat_runs{otel_scope_name=\"FuseChat\",state=\"running\"} 1",
                     "fusechat_stage_progress_ratio{otel_scope_name=\"FuseChat\",run=\"run-1\",stage=\"train\"} 0.25",
                     "fusechat_tokens_total{otel_scope_name=\"FuseChat\",stage=\"train\"} 4096",
                     "fusechat_training_loss{otel_scope_name=\"FuseChat\",run=\"run-1\",source=\"total\"} 2.31",
                     "fusechat_checkpoint_duration_seconds_count{otel_scope_name=\"FuseChat\",stage=\"train\"} 1",
                     "fusechat_checkpoint_bytes_total{otel_scope_name=\"FuseChat\",stage=\"train\"} 1048576",
                     "fusechat_artifact_bytes_total{direction=\"upload\",otel_scope_name=\"FuseChat\"} 4321",
                     "fusechat_artifact_bytes_total{direction=\"download\",otel_scope_name=\"FuseChat\"} 1234",
                     "orleans_",
                 })
        {
            Assert.True(text.Contains(expected, StringComparison.Ordinal), $"/metrics lacks '{expected}':\n{Names(text)}");
        }

        var (exitCode, output) = await Promtool.CheckMetricsAsync(text);
        Assert.True(exitCode == 0 && output.Length == 0, $"promtool check metrics (exit {exitCode}):\n{output}");
    }

    [Fact]
    public async Task Dashboard_without_a_token_is_401_with_a_bearer_challenge()
    {
        using var response = await Silo.Http.GetAsync(new Uri("/dashboard", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Fact]
    public async Task Dashboard_with_a_wrong_token_is_401_invalid_token()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EmbeddedSiloFixture.Token + "x");
        using var response = await Silo.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_with_the_token_is_200()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EmbeddedSiloFixture.Token);
        using var response = await Silo.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_group_marked_RequireApiToken_refuses_loopback_callers_without_the_token_when_one_is_configured()
    {
        using var refused = await Silo.Http.PostAsync(new Uri("/api/echo?text=hi", UriKind.Relative), content: null);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/echo?text=hi");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EmbeddedSiloFixture.Token);
        using var accepted = await Silo.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Contains("\"hi\"", await accepted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_and_health_need_no_token()
    {
        using var metrics = await Silo.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        using var ready = await Silo.Http.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    private static string Names(string text) =>
        string.Join('\n', text.Split('\n').Where(l => l.StartsWith("# TYPE", StringComparison.Ordinal)));
}
