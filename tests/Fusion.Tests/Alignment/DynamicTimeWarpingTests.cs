using FuseChat.Fusion.Alignment;

namespace FuseChat.Fusion.Tests.Alignment;

public class DynamicTimeWarpingTests
{
    [Fact]
    public void AlignmentLookupsHoldForWarpingPathsAndForCellsOrderedByPivotOnly()
    {
        // A warping path (ascending in both coordinates): the lookups are read straight off the path.
        var path = new TokenAlignment(3, 4, [0, 0, 1, 2, 2], [0, 1, 1, 2, 3]);
        Assert.Equal([0, 1], path.SourcesOf(0).ToArray());
        Assert.Equal([1], path.SourcesOf(1).ToArray());
        Assert.Equal([2, 3], path.SourcesOf(2).ToArray());
        Assert.Equal([0], path.PivotsOf(0).ToArray());
        Assert.Equal([0, 1], path.PivotsOf(1).ToArray());
        Assert.Equal([2], path.PivotsOf(3).ToArray());
        // Cells ordered by pivot, sources not ascending overall: the source lookup must be regrouped.
        var crossing = new TokenAlignment(2, 3, [0, 0, 1], [1, 2, 0]);
        Assert.Equal([1, 2], crossing.SourcesOf(0).ToArray());
        Assert.Equal([0], crossing.SourcesOf(1).ToArray());
        Assert.Equal([1], crossing.PivotsOf(0).ToArray());
        Assert.Equal([0], crossing.PivotsOf(1).ToArray());
        Assert.Equal([0], crossing.PivotsOf(2).ToArray());
    }

    [Fact]
    public void OneToMany()
    {
        var a = DynamicTimeWarping.Align(["▁model", "▁fusion", "▁zebra"], ["Ġmodel", "Ġfus", "ion", "Ġzebra"]);
        Assert.Equal([0], a.SourcesOf(0).ToArray());
        Assert.Equal([1, 2], a.SourcesOf(1).ToArray());
        Assert.Equal([3], a.SourcesOf(2).ToArray());
        Assert.Equal(6, a.Cost);
    }

    [Fact]
    public void ManyToOne()
    {
        var a = DynamicTimeWarping.Align(["▁model", "▁fus", "ion", "▁zebra"], ["Ġmodel", "Ġfusion", "Ġzebra"]);
        Assert.Equal([1, 2], a.PivotsOf(1).ToArray());
        Assert.Equal([1], a.SourcesOf(1).ToArray());
        Assert.Equal([1], a.SourcesOf(2).ToArray());
        Assert.Equal([3], a.PivotsOf(2).ToArray());
    }

    [Fact]
    public void TiesPreferDiagonalThenPivotStepThenSourceStep()
    {
        // All three predecessors of (1,1) hold D = 1: the diagonal wins.
        var diagonal = DynamicTimeWarping.Align(["a", "b"], ["b", "a"]);
        Assert.Equal([0, 1], diagonal.PathPivots);
        Assert.Equal([0, 1], diagonal.PathSources);
        // Every cell costs 0: from (2,1) the diagonal goes to (1,0), then only the pivot step remains.
        var repeated = DynamicTimeWarping.Align(["a", "a", "a"], ["a", "a"]);
        Assert.Equal([0, 1, 2], repeated.PathPivots);
        Assert.Equal([0, 0, 1], repeated.PathSources);
        // Other ties, pivot step before source step included, against the full-matrix reference below.
        var rng = new Random(3);
        for (var t = 0; t < 300; t++)
        {
            var p = RandomTokens(rng, rng.Next(1, 9));
            var s = RandomTokens(rng, rng.Next(1, 9));
            var expected = Reference(p, s);
            var actual = DynamicTimeWarping.Align(p, s);
            Assert.Equal(expected.Pivots, actual.PathPivots);
            Assert.Equal(expected.Sources, actual.PathSources);
            Assert.Equal(expected.Cost, actual.Cost);
        }
    }

    [Fact]
    public void PrunedMatchesFullMatrixOnLongRealisticPairs()
    {
        var rng = new Random(11);
        for (var t = 0; t < 5; t++)
        {
            var (p, s) = TwoTokenizations(rng, 120);
            var expected = Reference(p, s);
            var actual = DynamicTimeWarping.Align(p, s);
            Assert.Equal(expected.Cost, actual.Cost);
            Assert.Equal(expected.Pivots, actual.PathPivots);
            Assert.Equal(expected.Sources, actual.PathSources);
        }
    }

    [Fact]
    public void EmptyInputsGiveEmptyAlignment()
    {
        var a = DynamicTimeWarping.Align([], ["x"]);
        Assert.Equal(0, a.PivotLength);
        Assert.True(a.PivotsOf(0).IsEmpty);
    }

    // Full-matrix DTW written from METHOD.md, with the documented tie order (diagonal, pivot step, source step).
    // The edit distance defaults to the naive one of these tests; real ~1k-token pairs pass the library's for speed.
    internal static (int[] Pivots, int[] Sources, int Cost) Reference(IReadOnlyList<string> p, IReadOnlyList<string> s,
        Func<string, string, int>? distance = null)
    {
        distance ??= EditDistanceAndMarkersTests.Naive;
        int n = p.Count, m = s.Count;
        var d = new int[n, m];
        var costs = new Dictionary<(string, string), int>();
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < m; j++)
            {
                if (!costs.TryGetValue((p[i], s[j]), out var c))
                {
                    var (a, b) = TokenMarkers.ComparisonForms(p[i], s[j]);
                    costs[(p[i], s[j])] = c = distance(a, b);
                }
                var best = i == 0 && j == 0 ? 0 : int.MaxValue;
                if (i > 0 && j > 0) best = Math.Min(best, d[i - 1, j - 1]);
                if (i > 0) best = Math.Min(best, d[i - 1, j]);
                if (j > 0) best = Math.Min(best, d[i, j - 1]);
                d[i, j] = c + best;
            }
        }
        var pivots = new List<int>();
        var sources = new List<int>();
        int x = n - 1, y = m - 1;
        while (true)
        {
            pivots.Add(x);
            sources.Add(y);
            if (x == 0 && y == 0) break;
            if (x == 0) { y--; continue; }
            if (y == 0) { x--; continue; }
            var diag = d[x - 1, y - 1];
            var up = d[x - 1, y];
            var left = d[x, y - 1];
            if (diag <= up && diag <= left) { x--; y--; }
            else if (up <= left) { x--; }
            else { y--; }
        }
        pivots.Reverse();
        sources.Reverse();
        return (pivots.ToArray(), sources.ToArray(), d[n - 1, m - 1]);
    }

    internal static (string[] Pivot, string[] Source) TwoTokenizations(Random rng, int words)
    {
        var pivot = new List<string>();
        var source = new List<string>();
        for (var w = 0; w < words; w++)
        {
            var word = RandomWord(rng);
            Split(rng, word, "▁", pivot);
            Split(rng, word, "Ġ", source);
        }
        return (pivot.ToArray(), source.ToArray());
    }

    private static void Split(Random rng, string word, string marker, List<string> into)
    {
        var at = 0;
        var first = true;
        while (at < word.Length)
        {
            var len = Math.Min(word.Length - at, rng.Next(1, 7));
            into.Add((first ? marker : "") + word.Substring(at, len));
            at += len;
            first = false;
        }
    }

    private static string RandomWord(Random rng)
    {
        const string letters = "etaoinshrdlucmfwypvbgkqjxz";
        var len = 1 + Math.Min(rng.Next(1, 9), rng.Next(1, 12));
        var chars = new char[len];
        for (var i = 0; i < len; i++)
        {
            chars[i] = letters[Math.Min(rng.Next(26), rng.Next(26))];
        }
        return new string(chars);
    }

    private static string[] RandomTokens(Random rng, int count)
    {
        string[] pool = ["a", "b", "ab", "▁a", "Ġb", "▁", "ba", "Ġab"];
        return Enumerable.Range(0, count).Select(_ => pool[rng.Next(pool.Length)]).ToArray();
    }
}
