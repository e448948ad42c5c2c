using FuseChat.Grains.Planning;
using FuseChat.Grains.Runs;
using FuseChat.Grains.Storage;
using FuseChat.Grains.Tests.Runs;

namespace FuseChat.Grains.Tests.Planning;

/// <summary>A spec whose models and chats are artifact: paths is estimated from what the store holds, without the weights.</summary>
public sealed class RunCostInputsTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("fusechat-cost-").FullName;
    private readonly FileArtifactStore store;

    public RunCostInputsTests() => store = new FileArtifactStore(Path.Combine(root, "store"));

    public void Dispose() => Directory.Delete(root, recursive: true);

    private RunSpec Spec(string pivot, string source, string train)
    {
        var validation = RunSpecValidator.Validate($$"""
            name: cost
            pivot: {path: '{{pivot}}', template: mistral}
            sources:
              - {name: source, path: '{{source}}'}
            data: {train: '{{train}}'}
            training: {epochs: 2, accumulation: 2, dtype: bf16, gradient_checkpointing: true}
            output: {folder: out}
            """, Path.Combine(root, "spec"));
        Assert.True(validation.IsValid, string.Join("\n", validation.Problems));
        return validation.Spec!;
    }

    [Fact]
    public async Task The_estimate_from_the_store_is_the_estimate_from_local_files_and_no_weights_are_fetched()
    {
        var models = Path.Combine(root, "models");
        var pivot = TinyModels.Make(models, "pivot", "llama2", seed: 1);
        var source = TinyModels.Make(models, "source", "llama3", seed: 2);
        var chats = Path.Combine(root, "chats.jsonl");
        File.WriteAllLines(chats, TinyModels.ChatLines());
        await store.UploadFolderAsync(pivot, "models/pivot");
        await store.UploadFolderAsync(source, "models/source");
        await store.UploadFileAsync(chats, "data/chats.jsonl");
        Directory.CreateDirectory(Path.Combine(root, "spec"));

        var local = RunCostEstimator.Estimate(Spec(pivot, source, chats), 300);
        var inStore = Spec("artifact:models/pivot", "artifact:models/source", "artifact:data/chats.jsonl");
        Assert.True(RunCostInputs.AnyInStore(inStore));
        Assert.Throws<InvalidOperationException>(() => RunCostEstimator.Estimate(inStore, 300));
        var fetchedFolder = Path.Combine(root, "fetched");
        var fetched = await RunCostInputs.FetchAsync(store, inStore, fetchedFolder);
        var remote = RunCostEstimator.Estimate(fetched, 300);

        Assert.False(RunCostInputs.AnyInStore(fetched));
        Assert.Equal(local.Models, remote.Models);
        Assert.Equal(local.Stages, remote.Stages);
        Assert.Equal(local.TotalFlops, remote.TotalFlops);
        Assert.True(remote.GradientCheckpointing);
        Assert.True(File.Exists(Path.Combine(fetchedFolder, "models", "pivot", "tokenizer.json")));
        Assert.Empty(Directory.EnumerateFiles(fetchedFolder, "*.safetensors", SearchOption.AllDirectories));
        // Nothing was written where the run would pull its inputs.
        Assert.False(Directory.Exists(Path.Combine(root, "spec", "out")));
    }

    [Fact]
    public async Task A_model_without_a_tokenizer_in_the_store_is_named()
    {
        var pivot = TinyModels.Make(Path.Combine(root, "models"), "pivot", "llama2", seed: 1);
        await store.UploadFileAsync(Path.Combine(pivot, "config.json"), "models/bare/config.json");
        var chats = Path.Combine(root, "chats.jsonl");
        File.WriteAllLines(chats, TinyModels.ChatLines());
        Directory.CreateDirectory(Path.Combine(root, "spec"));

        var error = await Assert.ThrowsAsync<FileNotFoundException>(() =>
            RunCostInputs.FetchAsync(store, Spec("artifact:models/bare", pivot, chats), Path.Combine(root, "fetched")));
        Assert.Equal("artifact:models/bare has no tokenizer.json in the artifact store", error.Message);

        var missingData = await Assert.ThrowsAsync<FileNotFoundException>(() =>
            RunCostInputs.FetchAsync(store, Spec(pivot, pivot, "artifact:data/nowhere.jsonl"), Path.Combine(root, "fetched")));
        Assert.Equal("artifact:data/nowhere.jsonl is not in the artifact store", missingData.Message);
    }
}
