using FuseChat.Grains.Storage;
using FuseChat.Silo.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace FuseChat.Silo.Tests;

/// <summary>
/// The embedded silo keeps reminders in {DataPath}/reminders.json: a run's reminder outlives a restart, so the run goes
/// on by itself rather than waiting for a client to ask for its status.
/// </summary>
public sealed class EmbeddedRemindersTests
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
}
