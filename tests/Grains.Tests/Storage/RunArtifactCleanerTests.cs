using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Tests.Storage;

/// <summary>RunArtifactCleaner over a BlobArtifactStore on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RunArtifactCleanerTests(AzuriteFixture azurite)
{
    private readonly BlobArtifactStore _store = new(new BlobArtifactStoreOptions
    {
        ConnectionString = azurite.ConnectionString,
        ContainerName = "cleaner-" + Guid.NewGuid().ToString("N")[..12],
    });

    [Fact]
    public async Task DeletesEverythingButTheKeptOutputsOfThatRunOnlyAndIsIdempotent()
    {
        await PutAsync("runs/r1/fused/config.json", 10);
        await PutAsync("runs/r1/fused/model.safetensors", 100);
        await PutAsync("runs/r1/report.json", 7);
        await PutAsync("runs/r1/report.json.bak", 3);
        await PutAsync("runs/r1/work/targets/s/model.safetensors", 50);
        await PutAsync("runs/r1/work/targets/s.checkpoints/checkpoint-00000002/trainer_state.json", 5);
        await PutAsync("runs/r1/work/reps/pivot/shard-00000.arrow", 20);
        await PutAsync("runs/r1/.fused.merging/shard-0", 30);
        await PutAsync("runs/r10/work/reps/pivot/shard-00000.arrow", 20);
        var cleaner = new RunArtifactCleaner(_store, ArtifactRetention.DeleteWorkOnSuccess);
        string[] keep = ["fused", "report.json", "report.md", "work/targets/s"];

        var first = await cleaner.DeleteWorkAsync("r1", keep);
        Assert.True(first.Complete);
        Assert.Equal((4, 3L + 5 + 20 + 30), (first.DeletedFiles, first.DeletedBytes));
        Assert.Equal((4, 10L + 100 + 7 + 50), (first.KeptFiles, first.KeptBytes));
        Assert.Equal(
            ["runs/r1/fused/config.json", "runs/r1/fused/model.safetensors", "runs/r1/report.json", "runs/r1/work/targets/s/model.safetensors", "runs/r10/work/reps/pivot/shard-00000.arrow"],
            await ListAsync());

        var second = await cleaner.DeleteWorkAsync("r1", keep);
        Assert.Equal((0, 0L, 4), (second.DeletedFiles, second.DeletedBytes, second.KeptFiles));
    }

    [Theory]
    [InlineData(ArtifactRetention.KeepAll, false, false, false)]
    [InlineData(ArtifactRetention.DeleteWorkOnSuccess, true, false, false)]
    [InlineData(ArtifactRetention.DeleteWorkAlways, true, true, true)]
    public void WhichEndedRunsLoseTheirWork(ArtifactRetention retention, bool completed, bool failed, bool cancelled)
    {
        var cleaner = new RunArtifactCleaner(_store, retention);
        Assert.Equal(completed, cleaner.DeletesWorkOf(FuseChat.Grains.Interfaces.Runs.RunState.Completed));
        Assert.Equal(failed, cleaner.DeletesWorkOf(FuseChat.Grains.Interfaces.Runs.RunState.Failed));
        Assert.Equal(cancelled, cleaner.DeletesWorkOf(FuseChat.Grains.Interfaces.Runs.RunState.Cancelled));
        Assert.False(cleaner.DeletesWorkOf(FuseChat.Grains.Interfaces.Runs.RunState.Running));
    }

    private async Task PutAsync(string path, int length)
    {
        await using var write = await _store.OpenWriteAsync(path);
        await write.WriteAsync(new byte[length]);
        await write.CommitAsync();
    }

    private async Task<List<string>> ListAsync()
    {
        var paths = new List<string>();
        await foreach (var item in _store.ListAsync("")) paths.Add(item.Path);
        return paths;
    }
}
