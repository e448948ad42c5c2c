using FuseChat.Grains.Storage;
using Orleans.Runtime;

namespace FuseChat.Grains.Tests.Storage;

/// <summary>The embedded silo's reminder table: Orleans' table semantics, and rows that outlive the process.</summary>
public sealed class FileReminderTableTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("fusechat-reminders-").FullName;

    private string TablePath => Path.Combine(_folder, "data", "reminders.json");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static ReminderEntry Entry(string grain, string name, int minutes = 1) => new()
    {
        GrainId = GrainId.Parse(grain),
        ReminderName = name,
        StartAt = new DateTime(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc),
        Period = TimeSpan.FromMinutes(minutes),
    };

    [Fact]
    public async Task RowsSurviveANewTableOverTheSameFile()
    {
        var first = new FileReminderTable(TablePath);
        await first.StartAsync();
        Assert.False(File.Exists(TablePath));
        var etag = await first.UpsertRow(Entry("fusionrun/run-1", "fusechat-run"));
        await first.UpsertRow(Entry("pairwisefusion/run-1/llama3", "fusechat-work", 2));

        var second = new FileReminderTable(TablePath);
        await second.StartAsync();
        var row = await second.ReadRow(GrainId.Parse("fusionrun/run-1"), "fusechat-run");
        Assert.NotNull(row);
        Assert.Equal(etag, row.ETag);
        Assert.Equal(TimeSpan.FromMinutes(1), row.Period);
        Assert.Equal(new DateTime(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc), row.StartAt);
        var work = Assert.Single((await second.ReadRows(GrainId.Parse("pairwisefusion/run-1/llama3"))).Reminders);
        Assert.Equal(TimeSpan.FromMinutes(2), work.Period);
        // Only the table is left in the folder: every write went through a temporary file that was renamed.
        Assert.Equal(["reminders.json"], Directory.GetFiles(Path.GetDirectoryName(TablePath)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task RemoveNeedsTheCurrentETagAndUpsertIssuesANewOne()
    {
        var table = new FileReminderTable(TablePath);
        var grain = GrainId.Parse("fusionrun/run-2");
        var first = await table.UpsertRow(Entry("fusionrun/run-2", "fusechat-run"));
        var second = await table.UpsertRow(Entry("fusionrun/run-2", "fusechat-run", 5));
        Assert.NotEqual(first, second);
        Assert.Equal(TimeSpan.FromMinutes(5), (await table.ReadRow(grain, "fusechat-run"))!.Period);

        Assert.False(await table.RemoveRow(grain, "fusechat-run", first!));
        Assert.False(await table.RemoveRow(grain, "other", second!));
        Assert.True(await table.RemoveRow(grain, "fusechat-run", second!));
        Assert.Null(await table.ReadRow(grain, "fusechat-run"));
        Assert.Null(await new FileReminderTable(TablePath).ReadRow(grain, "fusechat-run"));
    }

    [Fact]
    public async Task RangeReadsFollowTheRingIncludingWrapAround()
    {
        var table = new FileReminderTable(TablePath);
        var grains = Enumerable.Range(0, 40).Select(i => $"fusionrun/run-{i}").ToList();
        foreach (var g in grains) await table.UpsertRow(Entry(g, "fusechat-run"));
        var hashes = grains.ToDictionary(g => g, g => GrainId.Parse(g).GetUniformHashCode());
        var ordered = hashes.Values.Order().ToList();
        var (low, high) = (ordered[10], ordered[30]);

        var inside = (await table.ReadRows(low, high)).Reminders.Select(r => r.GrainId.ToString()).Order().ToList();
        Assert.Equal(hashes.Where(h => h.Value > low && h.Value <= high).Select(h => h.Key).Order(), inside);
        Assert.Equal(20, inside.Count);

        // (high, low] wraps past uint.MaxValue: it holds exactly the others.
        var outside = (await table.ReadRows(high, low)).Reminders.Select(r => r.GrainId.ToString()).ToList();
        Assert.Equal(20, outside.Count);
        Assert.Empty(inside.Intersect(outside));

        // (x, x] is the whole ring, as a single silo asks for it.
        Assert.Equal(40, (await table.ReadRows(low, low)).Reminders.Count);
    }

    [Fact]
    public async Task AFileThatIsNotJsonIsAClearErrorNamingIt()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(TablePath)!);
        await File.WriteAllTextAsync(TablePath, "{ not json");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => new FileReminderTable(TablePath).StartAsync());
        Assert.Contains(TablePath, error.Message, StringComparison.Ordinal);
        Assert.Contains("Move it aside", error.Message, StringComparison.Ordinal);
        Assert.Equal("{ not json", await File.ReadAllTextAsync(TablePath));
    }
}
