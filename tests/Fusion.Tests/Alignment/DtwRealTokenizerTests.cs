using FuseChat.Fusion.Alignment;
using FuseChat.Fusion.Tests.Tokenization;

namespace FuseChat.Fusion.Tests.Alignment;

/// <summary>
/// The pruned DTW against a plain full-matrix DTW written here, on what it is tuned for (one text tokenized by
/// two real tokenizers, source tokens spelled as the pivot's) and on adversarial inputs full of ties.
/// </summary>
public class DtwRealTokenizerTests
{
    public static TheoryData<string, string> TokenizerPairs => new()
    {
        { "llama2", "llama3" },
        { "llama3", "gemma3" },
        { "qwen3", "llama2" },
        { "gemma3", "qwen3" },
    };

    [Theory]
    [MemberData(nameof(TokenizerPairs))]
    public void MatchesFullMatrixOnRealTokenizerPairs(string pivotName, string sourceName)
    {
        var pivot = TokenizerFixtures.Shared(pivotName);
        var source = TokenizerFixtures.Shared(sourceName);
        var corpus = TokenizerFixtures.Corpus();
        // Windows of the corpus (code, numbers, many scripts, emoji), a few hundred tokens each.
        for (var start = 0; start < corpus.Count; start += 60)
        {
            var text = string.Join("\n", corpus.Skip(start).Take(25));
            var p = pivot.Encode(text, false).Select(id => pivot.IdToToken(id)!).ToArray();
            var s = source.Encode(text, false)
                .Select(id => TokenMarkers.Convert(source.IdToToken(id)!, source.WordBoundaryMarker, pivot.WordBoundaryMarker)).ToArray();
            Check(p, s);
        }
    }

    [Fact]
    public void MatchesFullMatrixOnAdversarialTies()
    {
        var rng = new Random(41);
        string[] pool = ["a", "b", "ab", "ba", "▁a", "Ġa", "▁", "Ġ", "▁▁", "aa"];
        for (var t = 0; t < 200; t++)
        {
            // Tiny alphabets make most cells cost 0 or 1: many equal-cost paths.
            var p = Enumerable.Range(0, rng.Next(1, 120)).Select(_ => pool[rng.Next(t % 2 == 0 ? 3 : pool.Length)]).ToArray();
            var s = Enumerable.Range(0, rng.Next(1, 120)).Select(_ => pool[rng.Next(t % 3 == 0 ? 3 : pool.Length)]).ToArray();
            Check(p, s);
        }
    }

    private static void Check(string[] p, string[] s)
    {
        var (pivots, sources, cost) = FullMatrix(p, s);
        var actual = DynamicTimeWarping.Align(p, s);
        Assert.Equal(cost, actual.Cost);
        Assert.Equal(pivots, actual.PathPivots);
        Assert.Equal(sources, actual.PathSources);
    }

    // The definition, nothing more (DynamicTimeWarpingTests.Reference), with the library's edit distance for speed.
    private static (int[] Pivots, int[] Sources, int Cost) FullMatrix(string[] p, string[] s) =>
        DynamicTimeWarpingTests.Reference(p, s, (a, b) => EditDistance.Classic(a, b));
}
