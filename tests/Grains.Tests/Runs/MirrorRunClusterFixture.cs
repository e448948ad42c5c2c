using System.Diagnostics.Metrics;
using FuseChat.Grains.Placement;
using FuseChat.Grains.Runs;
using FuseChat.Grains.Storage;
using FuseChat.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>
/// As <see cref="RunClusterFixture"/>, with the artifact mirror on over a FileArtifactStore in a temporary folder, as a
/// cluster without a shared volume runs; runs have one source so that no other worker's notice wakes a stopped one.
/// </summary>
public sealed class MirrorRunClusterFixture : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "fusechat-mirror-runs-" + Guid.NewGuid().ToString("N"));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public FileArtifactStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        var models = Path.Combine(Root, "models");
        TinyModels.Make(models, "pivot", "llama2", 1);
        TinyModels.Make(models, "source-llama3", "llama3", 2);
        Store = new FileArtifactStore(Path.Combine(Root, "store"));

        var storage = Path.Combine(Root, "grain-state");
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddFileGrainStorage(RunStorage.Name, storage);
            silo.UseInMemoryReminderService();
            silo.UseFuseChatGpuPlacement(o => o.AllowCpuFallback = true);
            silo.Services.AddSingleton(sp => new FuseChatMetrics(sp.GetService<IMeterFactory>()));
            silo.Services.AddSingleton<IArtifactStore>(Store);
            silo.Services.AddSingleton<IRunArtifactMirrorFactory>(sp => new RunArtifactMirrorFactory(sp.GetRequiredService<IArtifactStore>()));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.StopAllSilosAsync();
            await Cluster.DisposeAsync();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow shutdown; the temp folder is cleaned by the OS.
        }
    }

    /// <summary>A fresh run folder with the chats and a one-source spec over the shared models.</summary>
    public (string Folder, string Spec) NewRun(string name, int epochs = 2)
    {
        var folder = Path.Combine(Root, name);
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
