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
        metrics.SetArtifactCleanupPending("run-2", true);
        metrics.RecordArtifactCleanupPass(completed: false, deletedBytes: 777);
        var store = Silo.App.Services.GetRequiredService<IArtifactStore>();
        await using (var upload = await store.OpenWriteAsync("probe/a.bin"))
        {
            await upload.WriteAsync(new byte[4321]);
            await upload.CommitAsync();
        }

        // The exporter caches a scrape for 300 ms: a scrape by another test may still be served.
        string text;
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            using var response = await Silo.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
            text = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            if (text.Contains("fusechat_tokens", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(200);
        }


        foreach (var expected in new[]
                 {
                     "fusechat_runs{otel_scope_name=\"FuseChat\",state=\"running\"} 1",
                     "fusechat_runs{otel_scope_name=\"FuseChat\",state=\"completed\"} 1",
                     "fusechat_stage_progress{otel_scope_name=\"FuseChat\",run=\"run-1\",stage=\"train\"} 0.25",
                     "fusechat_tokens_total{otel_scope_name=\"FuseChat\",stage=\"train\"} 4096",
                     "fusechat_tokens_rate_per_second{otel_scope_name=\"FuseChat\",run=\"run-1\",stage=\"train\"} 812.5",
                     "fusechat_training_loss{otel_scope_name=\"FuseChat\",run=\"run-1\",source=\"total\"} 2.31",
                     "fusechat_checkpoint_duration_seconds_bucket{otel_scope_name=\"FuseChat\",stage=\"train\",le=\"2.5\"} 1",
                     "fusechat_checkpoint_duration_seconds_count{otel_scope_name=\"FuseChat\",stage=\"train\"} 1",
                     "fusechat_checkpoint_bytes_total{otel_scope_name=\"FuseChat\",stage=\"train\"} 1048576",
                     "fusechat_artifact_bytes_total{otel_scope_name=\"FuseChat\",direction=\"upload\"} 4321",
                     "fusechat_artifact_bytes_total{otel_scope_name=\"FuseChat\",direction=\"download\"} 1234",
                     "fusechat_runs_ended_total{otel_scope_name=\"FuseChat\",state=\"completed\"} 1",
                     "fusechat_artifact_cleanup_pending{otel_scope_name=\"FuseChat\"} 1",
                     "fusechat_artifact_cleanup_passes_total{otel_scope_name=\"FuseChat\",outcome=\"failed\"} 1",
                     "fusechat_artifact_deleted_bytes_total{otel_scope_name=\"FuseChat\"} 777",
                     "orleans_",
                 })
        {
            Assert.True(text.Contains(expected, StringComparison.Ordinal), $"/metrics lacks '{expected}':\n{Names(text)}");
        }

        // Ours: not a single finding.
        var ours = string.Join('\n', text.Split('\n').Where(l => l.StartsWith("fusechat_", StringComparison.Ordinal)
            || l.StartsWith("# HELP fusechat_", StringComparison.Ordinal) || l.StartsWith("# TYPE fusechat_", StringComparison.Ordinal)
            || l.StartsWith("# UNIT fusechat_", StringComparison.Ordinal))) + "\n";
        var (exitCode, output) = await Promtool.CheckMetricsAsync(ours);
        Assert.True(exitCode == 0 && output.Length == 0, $"promtool check metrics over the fusechat_ series (exit {exitCode}):\n{output}");

        // The whole scrape, Orleans and .NET runtime series included: not a single finding either.
        (exitCode, output) = await Promtool.CheckMetricsAsync(text);
        Assert.True(exitCode == 0 && output.Length == 0, $"promtool check metrics over the whole scrape (exit {exitCode}):\n{output}");
        // Orleans' millisecond latencies come converted to seconds, not dropped.
        Assert.Contains("orleans_app_requests_latency_seconds_bucket", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_milliseconds", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/dashboard")]
    [InlineData("/dashboard/")]
    public async Task Dashboard_without_a_token_is_401_with_a_bearer_challenge(string path)
    {
        using var response = await Silo.Http.GetAsync(new Uri(path, UriKind.Relative));
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
        // /dashboard answers 301 to /dashboard/ (after the token check); the page itself is at /dashboard/.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EmbeddedSiloFixture.Token);
        using var response = await Silo.Http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {response.Headers.Location} {response.Headers.WwwAuthenticate} {await response.Content.ReadAsStringAsync()}");
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
