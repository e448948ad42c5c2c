using FuseChat.Bench.Failover;
using Xunit.Abstractions;
using FuseChat.Testing.Support;

namespace FuseChat.Silo.Tests;

/// <summary>
/// The cluster issue's failover check, the same code as `bench/run failover`: three silo processes on Redis and
/// Azurite, kill -9 of the silo training a pairwise fusion, and the run must complete with the undisturbed
/// run's weights, redoing at most the steps since the last checkpoint.
/// </summary>
public sealed class FailoverScenarioTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_the_silo_that_trains_a_fusion_loses_only_the_steps_since_its_last_checkpoint()
    {
        var root = RepositoryRoot.Path;
        var work = Directory.CreateTempSubdirectory("fusechat-failover-").FullName;
        const int checkpointEvery = 20;
        try
        {
            var result = await FailoverScenario.RunAsync(new FailoverOptions
            {
                RepositoryRoot = root,
                ClientDll = Path.Combine(AppContext.BaseDirectory, "fusechat.dll"),
                WorkFolder = work,
                Epochs = 12,
                CheckpointEvery = checkpointEvery,
                Say = line => output.WriteLine(line),
            });
            output.WriteLine(result.Line);

            Assert.True(result.Killed, result.Detail);
            Assert.True(result.Completed, result.Detail);
            Assert.True(result.Identical, result.Detail);
            // The kill lands after step 30; the resumed training starts from the checkpoint at step 20 (or later).
            Assert.InRange(result.LostSteps, 0, checkpointEvery);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
