using FuseChat.Fusion.Alignment;

namespace FuseChat.Fusion.Tests.Alignment;

public class StatisticsAndMapTests
{
    [Fact]
    public void CountsEveryAlignedCell()
    {
        var alignment = new TokenAlignment(3, 4, [0, 1, 1, 2], [0, 1, 2, 3]);
        var stats = new CooccurrenceStatistics();
        stats.AddAlignment([10, 11, 10], [20, 21, 22, 20], alignment);
        stats.AddAlignment([10, 11, 10], [20, 21, 22, 20], alignment);
        Assert.Equal(4, stats[10, 20]);
        Assert.Equal(2, stats[11, 21]);
        Assert.Equal(2, stats[11, 22]);
        Assert.Equal(0, stats[11, 20]);
        Assert.Equal(3, stats.PairCount);
    }

    [Fact]
    public void MergeFromManyThreadsAndSaveLoadRoundTrip()
    {
        var total = new CooccurrenceStatistics();
        Parallel.For(0, 64, k =>
        {
            var part = new CooccurrenceStatistics { Conversations = 1 };
            part.Add(k % 5, 100_000 + k % 3);
            part.Add(150_000, 7, 2);
            total.Merge(part);
        });
        Assert.Equal(64, total.Conversations);
        Assert.Equal(128, total[150_000, 7]);
        var stream = new MemoryStream();
        total.Save(stream);
        stream.Position = 0;
        var loaded = CooccurrenceStatistics.Load(stream);
        Assert.Equal(total.Entries(), loaded.Entries());
        Assert.Equal(64, loaded.Conversations);
        var again = new MemoryStream();
        loaded.Save(again);
        Assert.Equal(stream.ToArray(), again.ToArray());

        var path = Path.Combine(Path.GetTempPath(), $"cooc-{Guid.NewGuid():N}.bin");
        try
        {
            total.Save(path);
            Assert.Equal(total.Entries(), CooccurrenceStatistics.Load(path).Entries());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LoadRejectsForeignFiles()
    {
        Assert.Throws<InvalidDataException>(() => CooccurrenceStatistics.Load(new MemoryStream(new byte[32])));
    }

    private static readonly ListTokenVocabulary Pivot = new(
        ["<unk>", "<s>", "</s>", "▁fus", "▁fasion", "▁cat", "▁hat", "▁dog", "▁dig", "▁fusion"],
        TokenMarkers.SentencePiece, bosId: 1, eosId: 2, unkId: 0);

    private static readonly ListTokenVocabulary Source = new(
        ["<|bos|>", "<|eos|>", "Ġfusion", "Ġbat", "Ġdug", "Ġzebra", "Ġfusion2"],
        TokenMarkers.ByteLevel, bosId: 0, eosId: 1);

    [Fact]
    public void ContainmentFactorBeatsSmallerEditDistance()
    {
        // "fus" is 3 edits from "fusion" but contained: 0.3 * sigmoid(1) = 0.219 < 1 * sigmoid(5) = 0.993 for "fasion".
        var stats = new CooccurrenceStatistics();
        stats.Add(3, 2);
        stats.Add(4, 2, 5);
        var map = VocabularyMap.Build(stats, Pivot, Source);
        Assert.Equal(3, map[2]);
        Assert.True(map.HasCandidate(2));
        Assert.Equal(0.3 / (1 + Math.Exp(-1)), VocabularyMap.Score("▁fusion", "▁fus", 1), 12);
    }

    [Fact]
    public void SigmoidOfCountSeparatesEqualDistancesAsStated()
    {
        // Same edit distance 1: the formula minimises distance * sigmoid(count), so the rarer pair wins.
        var stats = new CooccurrenceStatistics();
        stats.Add(5, 3, 1);
        stats.Add(6, 3, 10);
        Assert.Equal(5, VocabularyMap.Build(stats, Pivot, Source)[3]);
    }

    [Fact]
    public void EqualScoresGoToLowestPivotId()
    {
        var stats = new CooccurrenceStatistics();
        stats.Add(8, 4, 2);
        stats.Add(7, 4, 2);
        Assert.Equal(7, VocabularyMap.Build(stats, Pivot, Source)[4]);
    }

    [Fact]
    public void SpecialAndFallbackRules()
    {
        var stats = new CooccurrenceStatistics();
        stats.Add(5, 0, 50); // BOS co-occurs with other tokens: still BOS
        var map = VocabularyMap.Build(stats, Pivot, Source);
        Assert.Equal(1, map[0]);
        Assert.Equal(2, map[1]);
        Assert.Equal(0, map[5]); // no candidate: unk
        Assert.False(map.HasCandidate(5));
        var noUnk = new ListTokenVocabulary(["<s>", "</s>", "▁x"], TokenMarkers.SentencePiece, bosId: 0, eosId: 1);
        Assert.Equal(1, VocabularyMap.Build(new CooccurrenceStatistics(), noUnk, Source)[5]); // no unk: eos
    }
}
