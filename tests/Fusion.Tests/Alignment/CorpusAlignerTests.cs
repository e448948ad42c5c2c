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
