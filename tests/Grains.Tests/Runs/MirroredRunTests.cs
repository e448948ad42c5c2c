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
        clock.Restart();
        RunStatus status;
        while (true)
        {
            status = await run.GetStatusAsync();
            if (status.State is RunState.Completed or RunState.Failed or RunState.Cancelled) break;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(150), $"run still {status.State} at {status.CurrentStage}");
            await Task.Delay(250);
        }

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

    private async Task<List<string>> StoredAsync(string prefix)
    {
        var found = new List<string>();
        await foreach (var item in fixture.Store.ListAsync(prefix)) found.Add(item.Path);
        return found;
    }
}
