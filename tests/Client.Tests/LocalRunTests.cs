using System.Diagnostics;
using FuseChat.Client.Demo;
using FuseChat.Client.Local;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Testing.Support;

namespace FuseChat.Client.Tests;

/// <summary>
/// <c>fusechat run SPEC --local</c>: a run on an in-process embedded silo, stopped (Ctrl+C) during the fusion and
/// continued by the same command over the same data folder, from the fusion's last checkpoint.
/// </summary>
[Collection(DemoRunsCollection.Name)]
public sealed class LocalRunTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fusechat-local-run-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_run_stopped_during_the_fusion_continues_from_its_checkpoint_when_started_again()
    {
        var paths = DemoWorkspace.Create(Path.Combine(_root, "workspace"), RepositoryRoot.Path, seed: 7, _ => { });
        var data = Path.Combine(_root, "silo");
        var id = LocalRun.DefaultId(paths.SpecFile);
        Assert.Equal("demo", id);

        // First process: stopped once a fusion checkpoint is on disk.
        var checkpoints = Path.Combine(paths.Output, "work", "targets");
        using (var stop = new CancellationTokenSource(TimeSpan.FromMinutes(4)))
        {
            var watcher = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    if (Directory.Exists(checkpoints) && Directory.EnumerateFiles(checkpoints, "*", SearchOption.AllDirectories).Any(f => f.Contains(".checkpoints", StringComparison.Ordinal)))
                    {
                        await stop.CancelAsync();
                        return;
                    }

                    await Task.Delay(100);
                }
            });
            var silo = await InProcessSilo.StartAsync(data, CancellationToken.None);
            await using (silo)
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LocalRun.StartAndFollowAsync(silo.Grains, id!, paths.SpecFile, CapturedConsole.Create(out _), stop.Token));
            }

            await watcher;
        }

        Assert.False(File.Exists(Path.Combine(paths.Output, "report.json")), "the run ended before it was stopped");

        // Second process, same command: it says it continues, and the fusion resumes from a checkpoint.
        var clock = Stopwatch.StartNew();
        var again = await InProcessSilo.StartAsync(data, CancellationToken.None);
        RunStatus? final;
        string text;
        await using (again)
        {
            final = await LocalRun.StartAndFollowAsync(again.Grains, id!, paths.SpecFile, CapturedConsole.Create(out var output), CancellationToken.None);
            text = output.ToString();
        }

        Assert.NotNull(final);
        Assert.True(final.State == RunState.Completed, $"{final.State}: {final.FailureReason}");
        Assert.Contains("continues where it stopped", text, StringComparison.Ordinal);
        Assert.Matches(@"resumed\s+at\s+step\s+[1-9]", text);
        Assert.True(File.Exists(Path.Combine(paths.Output, "report.json")));
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(4));

        // Third time: the run has ended, and the same command says so instead of starting it over.
        var third = await InProcessSilo.StartAsync(data, CancellationToken.None);
        await using (third)
        {
            var status = await LocalRun.StartAndFollowAsync(third.Grains, id!, paths.SpecFile, CapturedConsole.Create(out var output), CancellationToken.None);
            Assert.Equal(RunState.Completed, status!.State);
            Assert.Contains("already ended (completed)", output.ToString(), StringComparison.Ordinal);
        }
    }
}
