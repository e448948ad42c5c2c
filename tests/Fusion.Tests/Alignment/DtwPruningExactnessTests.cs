using FuseChat.Fusion.Alignment;

namespace FuseChat.Fusion.Tests.Alignment;

/// <summary>
/// The DTW prunes with a lower-bound DP (vectorised along anti-diagonals) and an upper bound from a greedy path;
/// the result must equal the full-matrix reference (cost and tie-broken path) on every kind of input.
/// </summary>
public class DtwPruningExactnessTests
{
    [Fact]
    public void CostLowerBoundNeverExceedsTheCost()
    {
        var rng = new Random(5);
        string[] alphabet = ["a", "b", "e", "th", "é", "日", "▁", "Ġ", "x"];
        var table = new DtwTokenTable();
        for (var t = 0; t < 3000; t++)
        {
            var a = Token(rng, alphabet, rng.Next(0, 8));
            var b = Token(rng, alphabet, rng.Next(0, 8));
            if (a.Length == 0 || b.Length == 0)
            {
                continue;
            }
            table.Begin(DtwTokenRegistry.Current);
            var la = table.InternPivot(a);
            var lb = table.InternSource(b);
            table.BeginCosts();
            DtwToken ta = table.Pivot(la), tb = table.Source(lb);
            var (l, r) = TokenMarkers.ComparisonForms(a, b);
            var cost = EditDistanceAndMarkersTests.Naive(l, r);
            Assert.Equal(cost, table.Cost(la, lb, 0, DtwTokenTable.Infinity));
            Assert.Equal(cost + 1, table.Dense[la * table.Stride + lb]);
            Assert.True(DynamicTimeWarping.LowerBound(ta, tb) <= cost, $"lb({a},{b}) > {cost}");
        }
    }

    [Fact]
    public void MatchesReferenceOnShiftedRepeatedAndUnrelatedSequences()
    {
        var rng = new Random(23);
        for (var t = 0; t < 60; t++)
        {
            var (p, s) = DynamicTimeWarpingTests.TwoTokenizations(rng, rng.Next(5, 60));
            switch (t % 6)
            {
                case 1:
                    // Optimum far from the diagonal: the source starts with a long extra run.
                    s = [.. DynamicTimeWarpingTests.TwoTokenizations(rng, rng.Next(5, 30)).Source, .. s];
                    break;
                case 2:
                    // Many zero-cost cells everywhere: few distinct tokens, lots of ties.
                    p = [.. p.Select(x => x.Length > 2 ? "▁the" : "a")];
                    s = [.. s.Select(x => x.Length > 3 ? "Ġthe" : "a")];
                    break;
                case 3:
                    // Unrelated texts.
                    s = DynamicTimeWarpingTests.TwoTokenizations(rng, rng.Next(5, 60)).Source;
                    break;
                case 4:
                    // Bare markers, non-ASCII and tokens longer than 64 characters.
                    p = [.. p.Select((x, k) => k % 7 == 0 ? "▁" : k % 11 == 0 ? new string('é', 70) + x : x)];
                    s = [.. s.Select((x, k) => k % 5 == 0 ? "Ġ" : k % 13 == 0 ? "日本" + x : x)];
                    break;
                case 5:
                    // One side of length 1.
                    p = [p[0]];
                    break;
            }
            Check(p, s);
            Check(s, p);
        }
    }

    [Fact]
    public void MatchesReferenceOnLongRealisticPairs()
    {
        // Long enough for whole-vector anti-diagonals and for pruning to cut most of the matrix.
        var rng = new Random(29);
        for (var t = 0; t < 3; t++)
        {
            var (p, s) = DynamicTimeWarpingTests.TwoTokenizations(rng, 300);
            Check(p, s);
        }
    }

    private static void Check(string[] p, string[] s)
    {
        var expected = DynamicTimeWarpingTests.Reference(p, s);
        var actual = DynamicTimeWarping.Align(p, s);
        Assert.Equal(expected.Cost, actual.Cost);
        Assert.Equal(expected.Pivots, actual.PathPivots);
        Assert.Equal(expected.Sources, actual.PathSources);
    }

    private static string Token(Random rng, string[] alphabet, int pieces) =>
        string.Concat(Enumerable.Range(0, pieces).Select(_ => alphabet[rng.Next(alphabet.Length)]));
}
