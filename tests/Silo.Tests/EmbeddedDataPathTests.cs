using FuseChat.Grains.Storage;
using FuseChat.Silo.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace FuseChat.Silo.Tests;

/// <summary>
/// The embedded silo's data folder: reminders in {DataPath}/reminders.json (a run's reminder outlives a restart, so
/// the run goes on by itself rather than waiting for a client to ask for its status), and one process at a time.
/// </summary>
public sealed class EmbeddedDataPathTests
{
    [Fact]
    public async Task A_reminder_registered_before_a_restart_is_there_after_it()
    {
        var data = Directory.CreateTempSubdirectory("fusechat-embedded-reminders-").FullName;
        try
        {
            var grain = GrainId.Create("fusionrun", "restart-probe");
            var settings = new Dictionary<string, string?> { ["FuseChat:DataPath"] = data };
            await using (var first = await RunningSilo.StartAsync(settings))
            {
                // The table the silo's reminder service reads and writes (grains register through it).
                var table = Assert.IsType<FileReminderTable>(first.App.Services.GetRequiredService<IReminderTable>());
                Assert.Equal(Path.Combine(data, "reminders.json"), table.FilePath);
                await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "fusechat-run", StartAt = DateTime.UtcNow, Period = TimeSpan.FromMinutes(1) });
            }

            await using var second = await RunningSilo.StartAsync(settings);
            var rows = await second.App.Services.GetRequiredService<IReminderTable>().ReadRows(grain);
            Assert.Equal("fusechat-run", Assert.Single(rows.Reminders).ReminderName);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_second_silo_over_the_same_data_folder_is_refused_until_the_first_stops()
    {
        var data = Directory.CreateTempSubdirectory("fusechat-embedded-lock-").FullName;
        try
        {
            var settings = new Dictionary<string, string?> { ["FuseChat:DataPath"] = data };
            await using (await RunningSilo.StartAsync(settings))
            {
                var error = await Assert.ThrowsAsync<OrleansConfigurationException>(() => RunningSilo.StartAsync(settings));
                Assert.Contains(data, error.Message, StringComparison.Ordinal);
                Assert.Contains("--FuseChat:DataPath", error.Message, StringComparison.Ordinal);
            }

            // Released with the first host.
            await using var again = await RunningSilo.StartAsync(settings);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await again.WaitUntilReadyAsync(TimeSpan.FromSeconds(30))).Status);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_gpu_that_libtorch_does_not_see_stops_the_silo_at_start()
    {
        // One past the GPUs libtorch sees here (cuda:0 with a CPU build of the shim).
        var missing = $"cuda:{FuseChat.Torch.TorchRuntime.CudaDeviceCount}";
        var error = await Assert.ThrowsAsync<OrleansConfigurationException>(() => RunningSilo.StartAsync(new Dictionary<string, string?> { ["FuseChat:Gpu:Device"] = missing }));
        Assert.Contains($"FuseChat:Gpu:Device is '{missing}'", error.Message, StringComparison.Ordinal);

        await using var cpu = await RunningSilo.StartAsync(new Dictionary<string, string?> { ["FuseChat:Gpu:Device"] = "cpu" });
        Assert.Equal(FuseChat.Torch.Device.Cpu, cpu.App.Services.GetRequiredService<FuseChat.Grains.Placement.WorkDevice>().Current);
    }
}
