using System.Diagnostics;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Storage;
using Orleans.Core.Internal;
using Xunit.Abstractions;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>Runs whose workers hand artifacts over through the artifact store (RunArtifactMirror), on one in-process silo.</summary>
public sealed class MirroredRunTests(MirrorRunClusterFixture fixture, ITestOutputHelper output) : IClassFixture<MirrorRunClusterFixture>
{
    [Fact]
    public async Task FusionWorkerThatLostItsLocalCheckpointsResumesFromTheStore()
    {
        const string runId = "mirror-resume";
        var (folder, spec) = fixture.NewRun(runId, epochs: 16);
        var run = fixture.Client.GetGrain<IFusionRunGrain>(runId);
        Assert.Empty((await run.StartAsync(spec, folder)).Problems);

        // Wait until a complete checkpoint of the llama3 fusion is in the store.
        var key = $"{runId}/llama3";
        var fusion = fixture.Client.GetGrain<IPairwiseFusionGrain>(key);
        var checkpoints = $"runs/{runId}/work/targets/llama3.checkpoints/";
        var clock = Stopwatch.StartNew();
        WorkStatus before;
        while (true)
        {
            before = await fusion.GetStatusAsync();
            Assert.False(before.IsFinal, $"fusion ended before it could be interrupted: {before.State} {before.Detail} {before.Error}");
            if (before.State == RunState.Running && await StoredAsync(checkpoints).ContinueWith(t => t.Result.Any(p => p.EndsWith("/" + RunArtifactMirror.CheckpointMarker, StringComparison.Ordinal)))) break;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"no checkpoint reached the store: {before.State} {before.Detail}");
            await Task.Delay(50);
        }

        // Take the activation away as a lost silo would, and its local disk with it.
        await fusion.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await Task.Delay(1000);
        var local = Path.Combine(folder, "out", "work", "targets", "llama3.checkpoints");
        // On a loaded machine the deactivation may still be finishing a checkpoint: delete once the folder holds still.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                Directory.Delete(local, recursive: true);
                break;
            }
            catch (IOException) when (attempt < 40)
            {
                await Task.Delay(250);
            }
        }

        await run.OnWorkerFinishedAsync(key);
        var status = await WaitForEndAsync(run, TimeSpan.FromSeconds(150));

        var after = await fusion.GetStatusAsync();
        output.WriteLine($"interrupted at {before.Detail}; then {after.Detail} after {after.Attempts} attempts");
        Assert.True(status.State == RunState.Completed, $"run {status.State}: {status.FailureReason}");
        Assert.Equal(2, after.Attempts);
        Assert.Matches(@"resumed at step [1-9]\d*", after.Detail);

        var stored = await StoredAsync($"runs/{runId}/");
        Assert.Contains($"runs/{runId}/fused/config.json", stored);
        Assert.Contains($"runs/{runId}/work/targets/llama3/config.json", stored);
        Assert.Contains($"runs/{runId}/report.json", stored);
        Assert.DoesNotContain(stored, p => RunArtifactMirror.IsTemporary(p[$"runs/{runId}/".Length..].Replace(".fused.merging/", "", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task StatusFollowsTheTrainingWhileACheckpointUploads()
    {
        const string runId = "mirror-slow-push";
        // 256 steps: time enough to see the status move while the first upload is held, even on a loaded machine.
        var (folder, spec) = fixture.NewRun(runId, epochs: 64);
        var checkpoints = $"runs/{runId}/work/targets/llama3.checkpoints/";
        var fusion = fixture.Client.GetGrain<IPairwiseFusionGrain>($"{runId}/llama3");
        var run = fixture.Client.GetGrain<IFusionRunGrain>(runId);
        fixture.Gate.Close(path => path.StartsWith(checkpoints, StringComparison.Ordinal));
        try
        {
            Assert.Empty((await run.StartAsync(spec, folder)).Problems);
            var clock = Stopwatch.StartNew();
            while (fixture.Gate.Waiting == 0)
            {
                var status = await fusion.GetStatusAsync();
                Assert.False(status.IsFinal, $"fusion ended before its first checkpoint upload: {status.State} {status.Detail} {status.Error}");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"no checkpoint upload started: {status.Detail}");
                await Task.Delay(20);
            }

            // The upload is held; training goes on, and so must the status (it used to wait for the upload).
            var held = StepOf(await fusion.GetStatusAsync());
            clock.Restart();
            WorkStatus later;
            do
            {
                await Task.Delay(100);
                later = await fusion.GetStatusAsync();
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"status stayed at step {held} while the upload was held: {later.Detail}");
            }
            while (StepOf(later) <= held);

            Assert.True(fixture.Gate.Waiting > 0, "the upload was let through before the status moved");
            Assert.DoesNotContain(await StoredAsync(checkpoints), p => p.EndsWith("/" + RunArtifactMirror.CheckpointMarker, StringComparison.Ordinal));
            output.WriteLine($"upload held at step {held}; status reached {later.Detail}");
        }
        finally
        {
            fixture.Gate.Open();
        }

        // Let through, the held checkpoint reaches the store; the rest of the run is not needed.
        var stored = Stopwatch.StartNew();
        while (!(await StoredAsync(checkpoints)).Any(p => p.EndsWith("/" + RunArtifactMirror.CheckpointMarker, StringComparison.Ordinal)))
        {
            Assert.True(stored.Elapsed < TimeSpan.FromSeconds(60), "no checkpoint reached the store after the gate opened");
            await Task.Delay(100);
        }

        await run.CancelAsync();
        var final = await WaitForEndAsync(run, TimeSpan.FromSeconds(60));
        Assert.NotEqual(RunState.Failed, final.State);
    }

    private static int StepOf(WorkStatus status)
    {
        var match = System.Text.RegularExpressions.Regex.Match(status.Detail ?? "", @"^step (\d+)/");
        return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }

    private static async Task<RunStatus> WaitForEndAsync(IFusionRunGrain run, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = await run.GetStatusAsync();
            if (status.State is RunState.Completed or RunState.Failed or RunState.Cancelled) return status;
            Assert.True(clock.Elapsed < limit, $"run still {status.State} at {status.CurrentStage}");
            await Task.Delay(250);
        }
    }

    private async Task<List<string>> StoredAsync(string prefix)
    {
        var found = new List<string>();
        await foreach (var item in fixture.Store.ListAsync(prefix)) found.Add(item.Path);
        return found;
    }
}
