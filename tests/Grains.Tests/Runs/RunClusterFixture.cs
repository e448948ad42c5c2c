using FuseChat.Grains.Placement;
using FuseChat.Grains.Runs;
using System.Diagnostics.Metrics;
using FuseChat.Grains.Storage;
using FuseChat.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>
/// One in-process silo with file grain storage as "fusechat", in-memory reminders and GPU placement with CPU
/// fallback, plus three tiny models (pivot with the Mistral vocabulary, sources with the Llama-3 and Qwen3
/// vocabularies) shared by the run tests.
/// </summary>
public class RunClusterFixture : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "fusechat-runs-" + Guid.NewGuid().ToString("N"));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public string ModelsFolder => Path.Combine(Root, "models");

    public virtual async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        TinyModels.Make(ModelsFolder, "pivot", "llama2", 1);
        TinyModels.Make(ModelsFolder, "source-llama3", "llama3", 2);
        TinyModels.Make(ModelsFolder, "source-qwen3", "qwen3", 3);

        var storage = Path.Combine(Root, "grain-state");
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddFileGrainStorage(RunStorage.Name, storage);
            silo.UseInMemoryReminderService();
            silo.UseFuseChatGpuPlacement(o => o.AllowCpuFallback = true);
            // As the silo host registers it: workers record their figures here.
            silo.Services.AddSingleton(sp => new FuseChatMetrics(sp.GetService<IMeterFactory>()));
            ConfigureSilo(silo);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    /// <summary>Adds to the silo what a derived fixture needs (an artifact store, ...).</summary>
    protected virtual void ConfigureSilo(ISiloBuilder silo)
    {
    }

    public virtual async Task DisposeAsync()
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

    /// <summary>A fresh run folder with the chats (optionally a bad line), and a spec over the shared models.</summary>
    public (string Folder, string Spec) NewRun(string name, string? badLine = null, int epochs = 2) =>
        NewRunIn(Root, name, ["llama3", "qwen3"], badLine, epochs);

    /// <summary>
    /// A fresh folder under <paramref name="root"/> with the chats (optionally a bad line) and a spec over the models in
    /// root/models, with <paramref name="sources"/> (models source-NAME) as its sources.
    /// </summary>
    public static (string Folder, string Spec) NewRunIn(string root, string name, IReadOnlyList<string> sources, string? badLine = null, int epochs = 2)
    {
        var folder = Path.Combine(root, name);
        Directory.CreateDirectory(folder);
        var lines = TinyModels.ChatLines().ToList();
        if (badLine is not null) lines.Insert(4, badLine);
        File.WriteAllLines(Path.Combine(folder, "chats.jsonl"), lines);
        var sourceLines = string.Join("\n", sources.Select(s => $"  - {{name: {s}, path: ../models/source-{s}}}"));
        var spec = $$"""
            name: {{name}}
            pivot: {path: ../models/pivot, template: mistral}
            sources:
            {{sourceLines}}
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
