using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>
/// Models given as artifact:PREFIX and data files as artifact:KEY in a spec: uploaded to the artifact store, pulled by
/// the workers into the run's work/artifacts, never pushed back; one the store lacks is refused at start.
/// </summary>
public sealed class ArtifactInputRunTests(MirrorRunClusterFixture fixture) : IClassFixture<MirrorRunClusterFixture>
{
    [Fact]
    public async Task ARunWhoseModelsAndChatsAreInTheArtifactStoreCompletes()
    {
        await fixture.Store.UploadFolderAsync(Path.Combine(fixture.Root, "models", "pivot"), "models/tiny-pivot");
        await fixture.Store.UploadFolderAsync(Path.Combine(fixture.Root, "models", "source-llama3"), "models/tiny-llama3");
        var (folder, spec) = fixture.NewRun("from-store");
        await fixture.Store.UploadFileAsync(Path.Combine(folder, "chats.jsonl"), "data/from-store/chats.jsonl");

        // Nothing local is left to read: the silos' only copy of the chats is the store's.
        File.Delete(Path.Combine(folder, "chats.jsonl"));
        Assert.Contains("data: {train: chats.jsonl, eval_chats: chats.jsonl}", spec, StringComparison.Ordinal);
        spec = spec.Replace("../models/pivot", "artifact:models/tiny-pivot", StringComparison.Ordinal)
            .Replace("../models/source-llama3", "artifact:models/tiny-llama3", StringComparison.Ordinal)
            .Replace("data: {train: chats.jsonl, eval_chats: chats.jsonl}", "data: {train: 'artifact:data/from-store/chats.jsonl', eval_chats: 'artifact:data/from-store/chats.jsonl'}", StringComparison.Ordinal);

        var run = fixture.Client.GetGrain<IFusionRunGrain>("from-store");
        var started = await run.StartAsync(spec, folder);
        Assert.Empty(started.Problems);
        var deadline = DateTime.UtcNow.AddSeconds(150);
        RunStatus status;
        do
        {
            await Task.Delay(250);
            status = await run.GetStatusAsync();
        }
        while (status.State == RunState.Running && DateTime.UtcNow < deadline);

        Assert.True(status.State == RunState.Completed, $"run {status.State}: {status.FailureReason}");
        // The workers pulled the models into the run's work/artifacts, weights included where they computed with them.
        var pulled = Path.Combine(folder, "out", "work", "artifacts", "models");
        Assert.True(File.Exists(Path.Combine(pulled, "tiny-pivot", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(pulled, "tiny-llama3", "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(folder, "out", "work", "artifacts", "data", "from-store", "chats.jsonl")));
        // Inputs are never written back under the run's prefix.
        await foreach (var item in fixture.Store.ListAsync("runs/from-store/"))
            Assert.DoesNotContain("/work/artifacts/", item.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AModelPrefixTheStoreLacksIsRefusedAtStart()
    {
        var (folder, spec) = fixture.NewRun("missing-model");
        spec = spec.Replace("../models/pivot", "artifact:models/nowhere", StringComparison.Ordinal);
        var started = await fixture.Client.GetGrain<IFusionRunGrain>("missing-model").StartAsync(spec, folder);
        Assert.Equal(RunState.Pending, started.State);
        Assert.Contains(started.Problems, p => p.Contains("artifact:models/nowhere", StringComparison.Ordinal) && p.Contains("no models/nowhere/config.json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADataFileTheStoreLacksIsRefusedAtStart()
    {
        var (folder, spec) = fixture.NewRun("missing-chats");
        spec = spec.Replace("train: chats.jsonl", "train: 'artifact:data/nowhere.jsonl'", StringComparison.Ordinal);
        var started = await fixture.Client.GetGrain<IFusionRunGrain>("missing-chats").StartAsync(spec, folder);
        Assert.Equal(RunState.Pending, started.State);
        Assert.Contains(started.Problems, p => p.Contains("artifact:data/nowhere.jsonl", StringComparison.Ordinal) && p.Contains("no file data/nowhere.jsonl", StringComparison.Ordinal));
    }
}
