using FuseChat.Fusion.Alignment;

namespace FuseChat.Fusion.Tests.Alignment;

/// <summary>
/// The per-row Myers pattern against the plain edit-distance DP, and the process-wide cost table: bounded,
/// and never answering a wrong cost, across shard clears and generation resets.
/// </summary>
public class DtwCostCacheTests
{
    [Fact]
    public void MyersPatternMatchesPlainDynamicProgramming()
    {
        var rng = new Random(11);
        // ASCII, Latin-1, CJK, surrogate halves and markers: both the ASCII table and the non-ASCII list.
        const string alphabet = "abcde xyz.\n\té日本語\u2581\u0120\ud83d\ude00";
        var pattern = new MyersPattern();
        for (var t = 0; t < 3000; t++)
        {
            // Mostly token-sized, some at and around the 64-unit word limit, some far beyond (fallback).
            var pl = t % 10 == 0 ? rng.Next(60, 70) : t % 37 == 0 ? rng.Next(100, 200) : rng.Next(0, 12);
            var p = RandomString(rng, alphabet, pl);
            pattern.Set(p);
            for (var k = 0; k < 5; k++)
            {
                var text = RandomString(rng, alphabet, k == 4 ? rng.Next(100, 300) : rng.Next(0, 16));
                Assert.Equal(EditDistance.Classic(p, text), pattern.Distance(text));
            }
        }
    }

    [Fact]
    public void MyersPatternForgetsThePreviousPattern()
    {
        var pattern = new MyersPattern();
        pattern.Set("abcé日");
        Assert.Equal(0, pattern.Distance("abcé日"));
        // Characters of the old pattern must not match any more.
        pattern.Set("xyz");
        Assert.Equal(3, pattern.Distance("abc"));
        Assert.Equal(3, pattern.Distance("é日q"));
        pattern.Set("");
        Assert.Equal(4, pattern.Distance("abcd"));
        pattern.Set(new string('a', 64));
        Assert.Equal(1, pattern.Distance(new string('a', 63)));
        Assert.Equal(EditDistance.Classic(new string('a', 64), "b"), pattern.Distance("b"));
    }

    [Fact]
    public void SharedTableStaysBoundedAndCorrectAcrossShardClears()
    {
        var table = new DtwCostTable();
        var rng = new Random(3);
        // Far more entries than fit: shards fill up and are cleared, memory stays at the bound.
        var inserts = DtwCostTable.Shards * DtwCostTable.ShardSize * 2;
        for (var k = 0; k < inserts; k++)
        {
            int p = rng.Next(1, DtwCostTable.IdLimit), s = rng.Next(1, DtwCostTable.IdLimit);
            table.Set(p, s, Expected(p, s));
        }
        Assert.True(table.AllocatedBytes <= DtwCostTable.MaxBytes);
        Assert.True(table.AllocatedBytes <= 64L << 20);
        Assert.True(table.Clears > 0);
        Assert.True(table.Count <= DtwCostTable.Shards * (long)DtwCostTable.ShardSize);
        // Every answer, hit or miss, is right; recent entries are mostly still there.
        var hits = 0;
        rng = new Random(3);
        for (var k = 0; k < inserts; k++)
        {
            int p = rng.Next(1, DtwCostTable.IdLimit), s = rng.Next(1, DtwCostTable.IdLimit);
            if (table.TryGet(p, s, out var cost))
            {
                Assert.Equal(Expected(p, s), cost);
                hits++;
            }
        }
        Assert.InRange(hits, 1, inserts);
    }

    [Fact]
    public void SharedTableIsCorrectUnderConcurrentWritersAndIgnoresWhatDoesNotFit()
    {
        var table = new DtwCostTable();
        Parallel.For(0, 4, w =>
        {
            var rng = new Random(w);
            for (var k = 0; k < 400_000; k++)
            {
                // Overlapping small id ranges: threads race on the same keys and slots.
                int p = rng.Next(1, 3000), s = rng.Next(1, 3000);
                if (table.TryGet(p, s, out var cost))
                {
                    Assert.Equal(Expected(p, s), cost);
                }
                else
                {
                    table.Set(p, s, Expected(p, s));
                }
            }
        });
        table.Set(0, 5, 1);
        table.Set(5, DtwCostTable.IdLimit, 1);
        table.Set(7, 7, DtwCostTable.MaxCost + 1);
        Assert.False(table.TryGet(0, 5, out _));
        Assert.False(table.TryGet(5, DtwCostTable.IdLimit, out _));
        Assert.False(table.TryGet(7, 7, out _));
    }

    [Fact]
    public void AlignmentsStayExactAcrossClearsOfTheProcessWideCaches()
    {
        var rng = new Random(17);
        for (var t = 0; t < 20; t++)
        {
            var (p, s) = DynamicTimeWarpingTests.TwoTokenizations(rng, rng.Next(5, 80));
            // Long tokens go through the shared table; clearing in between must not change any result.
            p = [.. p.Select((x, k) => k % 9 == 0 ? new string('x', 70) + x : x)];
            s = [.. s.Select((x, k) => k % 8 == 0 ? new string('x', 66) + x : x)];
            var expected = DynamicTimeWarpingTests.Reference(p, s);
            for (var round = 0; round < 3; round++)
            {
                if (round == 1)
                {
                    DtwCostCache.Clear();
                }
                var actual = DynamicTimeWarping.Align(p, s);
                Assert.Equal(expected.Cost, actual.Cost);
                Assert.Equal(expected.Pivots, actual.PathPivots);
                Assert.Equal(expected.Sources, actual.PathSources);
            }
        }
        Assert.True(DtwCostCache.CostBytes <= DtwCostCache.MaxCostBytes);
        Assert.InRange(DtwCostCache.Tokens, 1, DtwCostCache.MaxTokens + 1000);
    }

    // Any deterministic function of the key that uses the whole byte.
    private static int Expected(int p, int s) => (int)((uint)(p * 31 + s * 17) % (DtwCostTable.MaxCost + 1));

    private static string RandomString(Random rng, string alphabet, int length) =>
        new([.. Enumerable.Range(0, length).Select(_ => alphabet[rng.Next(alphabet.Length)])]);
}
