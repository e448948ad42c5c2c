using FuseChat.Fusion.Alignment;

namespace FuseChat.Fusion.Tests.Alignment;

public class CorpusAlignerTests
{
    [Fact]
    public void SameResultsForEveryDegreeOfParallelism()
    {
        var rng = new Random(5);
        var pivotTokens = new List<string>();
        var sourceTokens = new List<string>();
        var pairs = new List<(int[], int[])>();
        var pivotIndex = new Dictionary<string, int>();
        var sourceIndex = new Dictionary<string, int>();
        for (var c = 0; c < 40; c++)
        {
            var (p, s) = DynamicTimeWarpingTests.TwoTokenizations(rng, rng.Next(5, 60));
            pairs.Add((p.Select(t => Id(t, pivotIndex, pivotTokens)).ToArray(), s.Select(t => Id(t, sourceIndex, sourceTokens)).ToArray()));
        }
        var pivot = new ListTokenVocabulary(pivotTokens, TokenMarkers.SentencePiece);
        var source = new ListTokenVocabulary(sourceTokens, TokenMarkers.ByteLevel);

        byte[]? reference = null;
        TokenAlignment[]? first = null;
        foreach (var dop in new[] { 1, 2, 4, -1 })
        {
            var stats = new CooccurrenceStatistics();
            var alignments = new CorpusAligner(pivot, source, dop).Align(pairs, stats);
            Assert.Equal(pairs.Count, stats.Conversations);
            var bytes = new MemoryStream();
            stats.Save(bytes);
            reference ??= bytes.ToArray();
            first ??= alignments;
            Assert.Equal(reference, bytes.ToArray());
            for (var k = 0; k < alignments.Length; k++)
            {
                Assert.Equal(first[k].PathPivots, alignments[k].PathPivots);
                Assert.Equal(first[k].PathSources, alignments[k].PathSources);
            }
        }
    }

    [Fact]
    public void AligningByIdsEqualsAligningTheTokenStringsAcrossRegistryGenerations()
    {
        // The aligner keeps DTW tokens per vocabulary id; a new registry generation (here DtwCostCache.Clear) must
        // not leave it handing out tokens of the old one.
        var rng = new Random(9);
        var pivotTokens = new List<string>();
        var sourceTokens = new List<string>();
        var pivotIndex = new Dictionary<string, int>();
        var sourceIndex = new Dictionary<string, int>();
        var conversations = new List<(string[] Pivot, string[] Source)>();
        for (var c = 0; c < 12; c++)
        {
            var (p, s) = DynamicTimeWarpingTests.TwoTokenizations(rng, rng.Next(5, 80));
            conversations.Add((p, s));
            foreach (var t in p) Id(t, pivotIndex, pivotTokens);
            foreach (var t in s) Id(t, sourceIndex, sourceTokens);
        }
        var aligner = new CorpusAligner(new ListTokenVocabulary(pivotTokens, TokenMarkers.SentencePiece), new ListTokenVocabulary(sourceTokens, TokenMarkers.SentencePiece));
        for (var round = 0; round < 3; round++)
        {
            foreach (var (p, s) in conversations)
            {
                var byIds = aligner.AlignOne(p.Select(t => pivotIndex[t]).ToArray(), s.Select(t => sourceIndex[t]).ToArray());
                var byStrings = DynamicTimeWarping.Align(p, s);
                Assert.Equal(byStrings.Cost, byIds.Cost);
                Assert.Equal(byStrings.PathPivots, byIds.PathPivots);
                Assert.Equal(byStrings.PathSources, byIds.PathSources);
            }
            DtwCostCache.Clear();
        }
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => aligner.AlignOne([0, pivotTokens.Count], [0]));
        Assert.Contains("pivot token id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VocabularyTokensFollowTheRegistryGeneration()
    {
        string[] texts = ["▁the", "cat", "▁sat"];
        var tokens = new DtwVocabularyTokens("pivot", texts.Length, id => texts[id]);
        var first = new DtwTokenRegistry();
        var inFirst = tokens.Of(first, [2, 0, 2]);
        Assert.Same(first.Get("▁sat"), inFirst[0]);
        Assert.Same(inFirst[0], inFirst[2]);
        // A later generation gets its own tokens (ids restart there), never the first one's.
        var second = new DtwTokenRegistry();
        var inSecond = tokens.Of(second, [2, 1]);
        Assert.Same(second.Get("▁sat"), inSecond[0]);
        Assert.NotSame(first.Get("▁sat"), inSecond[0]);
        Assert.Same(second.Get("cat"), inSecond[1]);
    }

    private static int Id(string token, Dictionary<string, int> index, List<string> tokens)
    {
        if (!index.TryGetValue(token, out var id))
        {
            id = tokens.Count;
            tokens.Add(token);
            index.Add(token, id);
        }
        return id;
    }
}
