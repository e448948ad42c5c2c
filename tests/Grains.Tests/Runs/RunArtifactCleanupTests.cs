using System.Diagnostics;
using System.Diagnostics.Metrics;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Runs;
using FuseChat.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>What an ended run leaves in the blob artifact store (Azurite), per FuseChat:Storage:ArtifactRetention.</summary>
public sealed class RunArtifactCleanupTests(BlobMirrorRunClusterFixture fixture, ITestOutputHelper output) : IClassFixture<BlobMirrorRunClusterFixture>
{
    // Relative to the output folder: what a user reads after the run (one source, llama3).
    private static readonly string[] Outputs = ["fused", "report.json", "report.md", "work/targets/llama3"];

    [Fact]
    public async Task ACompletedRunsWorkArtifactsAreDeletedAndItsOutputsKept()
    {
        const string runId = "clean-success";
        fixture.Retention = ArtifactRetention.DeleteWorkOnSuccess;
        var (folder, run) = await RunToEndAsync(runId);

        var deleted = await WaitForEventAsync(run, RunEventKind.ArtifactsDeleted);
        output.WriteLine(deleted.Message);
        Assert.Matches(@"^deleted [1-9]\d* work artifacts \([1-9]\d* bytes\)", deleted.Message);

        var stored = await StoredAsync(runId);
        // Only outputs are left, every one of them whole: each local output file is in the store with its size.
        Assert.All(stored.Keys, key => Assert.True(IsOutput(key), $"work artifact left in the store: {key}"));
        var local = Path.Combine(folder, "out");
        var outputFiles = LocalFiles(local).Where(f => IsOutput(f.Key)).ToList();
        Assert.Contains(outputFiles, f => f.Key == "fused/config.json");
        Assert.Contains(outputFiles, f => f.Key.StartsWith("work/targets/llama3/", StringComparison.Ordinal) && f.Key.EndsWith(".safetensors", StringComparison.Ordinal));
        Assert.Contains(outputFiles, f => f.Key == "report.md");
        foreach (var (key, length) in outputFiles)
        {
            Assert.True(stored.TryGetValue(key, out var storedLength), $"output {key} is missing from the store");
            Assert.Equal(length, storedLength);
        }

        // The local output folder is never touched: on a shared volume it is where results are read.
        Assert.Contains(LocalFiles(local), f => f.Key.StartsWith("work/reps/", StringComparison.Ordinal));

        // Idempotent: a late notice neither deletes again nor records a second event.
        await run.OnWorkerFinishedAsync("late-notice");
        await Task.Delay(1000);
        Assert.Single(await run.GetEventsAsync(0), e => e.Kind == RunEventKind.ArtifactsDeleted);
        Assert.Equal(RunState.Completed, (await run.GetStatusAsync()).State);
    }

    [Fact]
    public async Task KeepAllKeepsEveryArtifact()
    {
        const string runId = "clean-keep-all";
        fixture.Retention = ArtifactRetention.KeepAll;
        var (_, run) = await RunToEndAsync(runId);
        await run.OnWorkerFinishedAsync("late-notice");
        await Task.Delay(2000);

        Assert.DoesNotContain(await run.GetEventsAsync(0), e => e.Kind == RunEventKind.ArtifactsDeleted);
        var stored = await StoredAsync(runId);
        Assert.Contains(stored.Keys, k => k.StartsWith("work/targets/llama3.checkpoints/", StringComparison.Ordinal) && k.EndsWith("/" + RunArtifactMirror.CheckpointMarker, StringComparison.Ordinal));
        Assert.Contains(stored.Keys, k => k.StartsWith("work/reps/pivot/", StringComparison.Ordinal));
        Assert.Contains(stored.Keys, k => k.StartsWith("work/aligned/llama3/", StringComparison.Ordinal));
        Assert.Contains("fused/config.json", stored.Keys);
    }

    [Fact]
    public async Task AStoreOutageDuringCleanupLeavesTheRunCompletedLogsAWarningAndIsRetried()
    {
        const string runId = "clean-outage";
        fixture.Retention = ArtifactRetention.DeleteWorkOnSuccess;
        fixture.Store.DeletesFail = true;
        using var measurements = new FusionMeasurements(fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IMeterFactory>());
        try
        {
            var (_, run) = await RunToEndAsync(runId);

            var clock = Stopwatch.StartNew();
            (LogLevel Level, string Category, string Message, Exception? Exception) warning;
            while (true)
            {
                warning = fixture.Logs.Entries.FirstOrDefault(e => e.Level == LogLevel.Warning
                    && e.Category == typeof(FusionRunGrain).FullName && e.Message.Contains(runId, StringComparison.Ordinal));
                if (warning.Message is not null) break;
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "no warning about the failed cleanup was logged");
                await Task.Delay(200);
            }

            output.WriteLine(warning.Message);
            Assert.Contains("could not delete its work artifacts", warning.Message, StringComparison.Ordinal);
            Assert.IsType<StorageOperationException>(warning.Exception);
            var status = await run.GetStatusAsync();
            Assert.Equal(RunState.Completed, status.State);
            Assert.Null(status.FailureReason);
            Assert.DoesNotContain(await run.GetEventsAsync(0), e => e.Kind == RunEventKind.ArtifactsDeleted);
            Assert.Contains(await StoredAsync(runId), p => p.Key.StartsWith("work/targets/llama3.checkpoints/", StringComparison.Ordinal));

            // An operator sees it on /metrics: a failed pass, and the run counted as pending until a pass succeeds.
            Assert.True(measurements.Sum("fusechat.artifact.cleanup.passes", ("outcome", "failed")) >= 1);
            Assert.Equal(0, measurements.Sum("fusechat.artifact.cleanup.passes", ("outcome", "completed")));
            Assert.Equal(1, PendingCleanups());

            // The store is back: the next notice (or reminder tick) finishes the job.
            fixture.Store.DeletesFail = false;
            await run.OnWorkerFinishedAsync("after-outage");
            var deleted = await WaitForEventAsync(run, RunEventKind.ArtifactsDeleted);
            output.WriteLine(deleted.Message);
            Assert.All((await StoredAsync(runId)).Keys, key => Assert.True(IsOutput(key), $"work artifact left in the store: {key}"));
            Assert.Contains("fused/config.json", (await StoredAsync(runId)).Keys);
            Assert.Equal(RunState.Completed, (await run.GetStatusAsync()).State);
            Assert.Equal(1, measurements.Sum("fusechat.artifact.cleanup.passes", ("outcome", "completed")));
            Assert.True(measurements.Sum("fusechat.artifact.deleted") > 0);
            Assert.Equal(0, PendingCleanups());
        }
        finally
        {
            fixture.Store.DeletesFail = false;
        }
    }

    /// <summary>fusechat.artifact.cleanup.pending of the test silo, read now.</summary>
    private double PendingCleanups()
    {
        using var now = new FusionMeasurements(fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IMeterFactory>());
        now.Collect();
        return now.Last("fusechat.artifact.cleanup.pending") ?? throw new InvalidOperationException("the silo exports no fusechat.artifact.cleanup.pending");
    }

    private static bool IsOutput(string relative) =>
        Outputs.Any(o => relative == o || relative.StartsWith(o + "/", StringComparison.Ordinal));

    private async Task<(string Folder, IFusionRunGrain Run)> RunToEndAsync(string runId)
    {
        var (folder, spec) = fixture.NewRun(runId);
        var run = fixture.Client.GetGrain<IFusionRunGrain>(runId);
        Assert.Empty((await run.StartAsync(spec, folder)).Problems);
        var clock = Stopwatch.StartNew();
        RunStatus status;
        while (true)
        {
            status = await run.GetStatusAsync();
            if (status.State != RunState.Running) break;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(150), $"run still running at {status.CurrentStage}");
            await Task.Delay(250);
        }

        Assert.True(status.State == RunState.Completed, $"run {status.State}: {status.FailureReason}");
        return (folder, run);
    }

    private static async Task<RunEvent> WaitForEventAsync(IFusionRunGrain run, RunEventKind kind)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if ((await run.GetEventsAsync(0)).FirstOrDefault(e => e.Kind == kind) is { } found) return found;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"no {kind} event");
            await Task.Delay(200);
        }
    }

    /// <summary>The run's stored artifacts, keyed relative to "runs/{run}/", with their sizes.</summary>
    private async Task<Dictionary<string, long>> StoredAsync(string runId)
    {
        var prefix = $"runs/{runId}/";
        var found = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var item in fixture.Store.ListAsync(prefix)) found[item.Path[prefix.Length..]] = item.Length;
        return found;
    }

    private static Dictionary<string, long> LocalFiles(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => (Key: Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'), Length: new FileInfo(f).Length))
            .Where(f => !RunArtifactMirror.IsTemporary(f.Key))
            .ToDictionary(f => f.Key, f => f.Length, StringComparer.Ordinal);
}
