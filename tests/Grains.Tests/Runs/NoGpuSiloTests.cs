using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Placement;
using FuseChat.Grains.Runs;
using FuseChat.Grains.Storage;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>
/// A cluster without a GPU silo and without CPU fallback: a run is accepted, says in its status and events that it
/// waits for a GPU silo, and stays Running (it retries on every tick) instead of failing.
/// </summary>
public sealed class NoGpuSiloTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fusechat-nogpu-" + Guid.NewGuid().ToString("N"));
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddFileGrainStorage(RunStorage.Name, Path.Combine(_root, "grain-state"));
            silo.UseInMemoryReminderService();
            silo.UseFuseChatGpuPlacement(o => o.AllowCpuFallback = false);
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task ARunWaitsForAGpuSiloAndSaysSo()
    {
        var models = Path.Combine(_root, "models");
        TinyModels.Make(models, "pivot", "llama2", 1);
        TinyModels.Make(models, "source", "qwen3", 2);
        var folder = Path.Combine(_root, "run");
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "chats.jsonl"), TinyModels.ChatLines());
        const string spec = """
            name: nogpu
            pivot: {path: ../models/pivot, template: mistral}
            sources:
              - {name: qwen3, path: ../models/source}
            data: {train: chats.jsonl}
            output: {folder: out}
            """;

        var run = _cluster.Client.GetGrain<IFusionRunGrain>("nogpu");
        var started = await run.StartAsync(spec, folder);
        Assert.Empty(started.Problems);
        Assert.Equal(RunState.Running, started.State);
        Assert.NotNull(started.Waiting);
        Assert.Contains("gpu=true", started.Waiting, StringComparison.Ordinal);
        Assert.Contains("AllowCpuFallback", started.Waiting, StringComparison.Ordinal);

        var events = await run.GetEventsAsync(0);
        Assert.Single(events, e => e.Kind == RunEventKind.Waiting);
        Assert.DoesNotContain(events, e => e.Kind is RunEventKind.RunFailed or RunEventKind.Error);

        // The next attempt (a worker notice stands in for the reminder tick) keeps waiting without repeating the event.
        await run.OnWorkerFinishedAsync("nogpu/pivot");
        var again = await run.GetStatusAsync();
        Assert.Equal(RunState.Running, again.State);
        Assert.NotNull(again.Waiting);
        Assert.Single(await run.GetEventsAsync(0), e => e.Kind == RunEventKind.Waiting);
    }
}
