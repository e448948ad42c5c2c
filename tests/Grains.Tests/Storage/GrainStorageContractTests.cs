using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace FuseChat.Grains.Tests.Storage;

/// <summary>The Orleans grain storage contract, run against every provider.</summary>
public abstract class GrainStorageContractTests
{
    private const string StateName = "run";

    /// <summary>A provider over one backing store per test class instance; every call returns a new provider over the same store.</summary>
    protected abstract IGrainStorage CreateStorage(bool deleteStateOnClear = true);

    private static GrainId NewGrain() => GrainId.Create("fusionrun", Guid.NewGuid().ToString("N"));

    private static GrainState<RunState> Empty() => new();

    [Fact]
    public async Task Read_of_a_grain_never_written_has_no_record()
    {
        var state = Empty();
        await CreateStorage().ReadStateAsync(StateName, NewGrain(), state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
        Assert.Equal(0, state.State!.Stage);
    }

    [Fact]
    public async Task Write_then_read_round_trips_the_state()
    {
        var grain = NewGrain();
        var written = new GrainState<RunState>(TestSerialization.Sample());
        await CreateStorage().WriteStateAsync(StateName, grain, written);
        Assert.True(written.RecordExists);
        Assert.False(string.IsNullOrEmpty(written.ETag));

        var read = Empty();
        await CreateStorage().ReadStateAsync(StateName, grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        TestSerialization.AssertSame(TestSerialization.Sample(), read.State!);

        read.State = read.State! with { Stage = 4 };
        await CreateStorage().WriteStateAsync(StateName, grain, read);
        Assert.NotEqual(written.ETag, read.ETag);
        var again = Empty();
        await CreateStorage().ReadStateAsync(StateName, grain, again);
        Assert.Equal(4, again.State!.Stage);
    }

    [Fact]
    public async Task Second_writer_with_the_same_stale_ETag_conflicts()
    {
        var grain = NewGrain();
        var storage = CreateStorage();
        await storage.WriteStateAsync(StateName, grain, new GrainState<RunState>(TestSerialization.Sample()));

        var first = Empty();
        var second = Empty();
        await storage.ReadStateAsync(StateName, grain, first);
        await storage.ReadStateAsync(StateName, grain, second);
        var staleETag = second.ETag;

        first.State = first.State! with { Stage = 10 };
        await storage.WriteStateAsync(StateName, grain, first);

        second.State = second.State! with { Stage = 20 };
        var conflict = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, second));
        Assert.Equal(staleETag, conflict.CurrentEtag);
        Assert.Equal(first.ETag, conflict.StoredEtag);

        var read = Empty();
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.Equal(10, read.State!.Stage);
    }

    [Fact]
    public async Task First_write_without_ETag_conflicts_when_a_record_exists()
    {
        var grain = NewGrain();
        await CreateStorage().WriteStateAsync(StateName, grain, new GrainState<RunState>(TestSerialization.Sample()));
        var fresh = new GrainState<RunState>(TestSerialization.Sample("other"));
        await Assert.ThrowsAsync<InconsistentStateException>(() => CreateStorage().WriteStateAsync(StateName, grain, fresh));
    }

    [Fact]
    public async Task Write_with_an_ETag_conflicts_when_the_record_was_deleted()
    {
        var grain = NewGrain();
        var storage = CreateStorage();
        var a = new GrainState<RunState>(TestSerialization.Sample());
        await storage.WriteStateAsync(StateName, grain, a);
        var b = Empty();
        await storage.ReadStateAsync(StateName, grain, b);
        await storage.ClearStateAsync(StateName, grain, b);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, a));
    }

    [Fact]
    public async Task Clear_deletes_the_record()
    {
        var grain = NewGrain();
        var storage = CreateStorage(deleteStateOnClear: true);
        var state = new GrainState<RunState>(TestSerialization.Sample());
        await storage.WriteStateAsync(StateName, grain, state);
        await storage.ClearStateAsync(StateName, grain, state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Equal(0, state.State!.Stage);

        var read = Empty();
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);

        // Deleted means absent: a first write (no ETag) succeeds again.
        await storage.WriteStateAsync(StateName, grain, new GrainState<RunState>(TestSerialization.Sample("again")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Clear_with_a_stale_ETag_conflicts(bool deleteStateOnClear)
    {
        var grain = NewGrain();
        var storage = CreateStorage(deleteStateOnClear);
        var stale = new GrainState<RunState>(TestSerialization.Sample());
        await storage.WriteStateAsync(StateName, grain, stale);
        var current = Empty();
        await storage.ReadStateAsync(StateName, grain, current);
        current.State = current.State! with { Stage = 99 };
        await storage.WriteStateAsync(StateName, grain, current);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, grain, stale));
        var read = Empty();
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(99, read.State!.Stage);
    }

    [Fact]
    public async Task Clear_without_delete_leaves_a_tombstone_that_keeps_the_ETag()
    {
        var grain = NewGrain();
        var storage = CreateStorage(deleteStateOnClear: false);
        var state = new GrainState<RunState>(TestSerialization.Sample());
        await storage.WriteStateAsync(StateName, grain, state);
        await storage.ClearStateAsync(StateName, grain, state);
        Assert.False(state.RecordExists);
        Assert.NotNull(state.ETag);

        var read = Empty();
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.False(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag);

        // The tombstone still guards against a writer that never read it.
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, new GrainState<RunState>(TestSerialization.Sample())));
        read.State = TestSerialization.Sample("revived");
        await storage.WriteStateAsync(StateName, grain, read);
        var revived = Empty();
        await storage.ReadStateAsync(StateName, grain, revived);
        Assert.True(revived.RecordExists);
        Assert.Equal("revived", revived.State!.Name);
    }

    [Fact]
    public async Task Clear_of_a_grain_never_written_succeeds()
    {
        var state = Empty();
        await CreateStorage(deleteStateOnClear: true).ClearStateAsync(StateName, NewGrain(), state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
    }

    [Fact]
    public async Task Keys_with_characters_unfit_for_names_are_kept_apart()
    {
        var storage = CreateStorage();
        var suffix = Guid.NewGuid().ToString("N");
        string[] keys = [$"a/b {suffix}", $"a~2Fb {suffix}", $"ü?#%\\..{suffix}.", $"{new string('x', 400)}{suffix}1", $"{new string('x', 400)}{suffix}2"];
        foreach (var key in keys)
        {
            await storage.WriteStateAsync(StateName, GrainId.Create("fusionrun", key), new GrainState<RunState>(TestSerialization.Sample(key)));
        }

        foreach (var key in keys)
        {
            var read = Empty();
            await storage.ReadStateAsync(StateName, GrainId.Create("fusionrun", key), read);
            Assert.True(read.RecordExists);
            Assert.Equal(key, read.State!.Name);
        }
    }

    [Fact]
    public async Task Concurrent_first_writes_let_exactly_one_win()
    {
        var grain = NewGrain();
        // Separate provider instances, as two silos (or two provider names over one store) would have.
        var attempts = Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                await CreateStorage().WriteStateAsync(StateName, grain, new GrainState<RunState>(TestSerialization.Sample($"w{i}")));
                return true;
            }
            catch (InconsistentStateException)
            {
                return false;
            }
        });
        var results = await Task.WhenAll(attempts);
        Assert.Equal(1, results.Count(r => r));
    }
}
