using FuseChat.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>
/// As <see cref="RunClusterFixture"/>, with the artifact mirror on over a FileArtifactStore in a temporary folder, as a
/// cluster without a shared volume runs; runs have one source so that no other worker's notice wakes a stopped one.
/// </summary>
public sealed class MirrorRunClusterFixture : RunClusterFixture
{
    private FileArtifactStore? _store;

    public FileArtifactStore Store => _store ??= new FileArtifactStore(Path.Combine(Root, "store"));

    protected override void ConfigureSilo(ISiloBuilder silo)
    {
        silo.Services.AddSingleton<IArtifactStore>(_ => Store);
        silo.Services.AddSingleton<IRunArtifactMirrorFactory>(sp => new RunArtifactMirrorFactory(sp.GetRequiredService<IArtifactStore>()));
    }

    /// <summary>A fresh run folder with the chats and a one-source spec over the shared models.</summary>
    public (string Folder, string Spec) NewRun(string name, int epochs = 2) => NewOneSourceRun(Root, name, epochs);

    /// <summary>A fresh folder under <paramref name="root"/> with the chats and a one-source spec over the models in root/models.</summary>
    public static (string Folder, string Spec) NewOneSourceRun(string root, string name, int epochs)
    {
        var folder = Path.Combine(root, name);
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "chats.jsonl"), TinyModels.ChatLines());
        var spec = $$"""
            name: {{name}}
            pivot: {path: ../models/pivot, template: mistral}
            sources:
              - {name: llama3, path: ../models/source-llama3}
            data: {train: chats.jsonl, eval_chats: chats.jsonl}
            representation: {top_k: 10, shard_size: 4, max_batch_tokens: 1024}
            alignment: {threads: 1}
            training: {lr: 3.0e-3, epochs: {{epochs}}, accumulation: 2, warmup: 0, checkpoint_every: 2, lambda: 0.9}
            merge: {method: sce, select_topk: 0.5, dtype: float32}
            output: {folder: out}
            """;
        return (folder, spec);
    }
}
