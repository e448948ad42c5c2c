using FuseChat.Fusion.Alignment;

namespace FuseChat.Fusion.Tests.Alignment;

/// <summary>
/// The DTW prunes with a lower-bound DP (vectorised a strip of rows at a time) and an upper bound from a greedy path;
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
            var la = table.InternPivot(DtwTokenRegistry.Current.Get(a));
            var lb = table.InternSource(DtwTokenRegistry.Current.Get(b));
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
    public void KnownCostsAreExactAndCoverEqualAndDisjointForms()
    {
        // Pairs of many distinct tokens each, so that rows are wider than a vector and end mid-vector; "z" and "Q"
        // share no bucket with the rest (bucket = code unit & 31), "a" and "A" share one.
        var rng = new Random(11);
        string[] alphabet = ["a", "A", "b", "th", "é", "z", "Q", "日", "▁", "Ġ", "."];
        var registry = new DtwTokenRegistry();
        var table = new DtwTokenTable();
        int equal = 0, disjoint = 0, unknown = 0;
        for (var round = 0; round < 30; round++)
        {
            var pivots = Enumerable.Range(0, rng.Next(1, 90)).Select(_ => Token(rng, alphabet, rng.Next(1, 5))).ToArray();
            var sources = Enumerable.Range(0, rng.Next(1, 90)).Select(_ => Token(rng, alphabet, rng.Next(1, 5))).ToArray();
            table.Begin(registry);
            var p = pivots.Select(t => table.InternPivot(registry.Get(t))).ToArray();
            var q = sources.Select(t => table.InternSource(registry.Get(t))).ToArray();
            table.BeginCosts();
            for (var i = 0; i < pivots.Length; i++)
            {
                for (var j = 0; j < sources.Length; j++)
                {
                    var entry = table.Dense[p[i] * table.Stride + q[j]];
                    var (l, r) = TokenMarkers.ComparisonForms(pivots[i], sources[j]);
                    var cost = EditDistanceAndMarkersTests.Naive(l, r);
                    DtwToken a = table.Pivot(p[i]), b = table.Source(q[j]);
                    var stripped = a.Length > 0 && b.Length > 0;
                    if (entry == 0)
                    {
                        // Unknown is allowed only where neither rule applies.
                        Assert.False(stripped && (a.Class == b.Class || (a.Mask & b.Mask) == 0), $"({pivots[i]}, {sources[j]}) left unknown");
                        unknown++;
                        continue;
                    }
                    Assert.True(cost + 1 == entry, $"({pivots[i]}, {sources[j]}): entry {entry}, cost {cost}");
                    _ = cost == 0 ? equal++ : disjoint++;
                }
            }
        }
        Assert.True(equal >= 100 && disjoint >= 1000 && unknown >= 1000, $"equal {equal}, disjoint {disjoint}, unknown {unknown}");
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
        // Long enough for whole strips and for pruning to cut most of the matrix.
        var rng = new Random(29);
        for (var t = 0; t < 3; t++)
        {
            var (p, s) = DynamicTimeWarpingTests.TwoTokenizations(rng, 300);
            Check(p, s);
        }
    }

    [Fact]
    public void MatchesReferenceWithoutTheSuffixBound()
    {
        // Pairs above the size limit are pruned by D <= UB alone (limit 0 here: every pair).
        var rng = new Random(31);
        for (var t = 0; t < 20; t++)
        {
            var (p, s) = DynamicTimeWarpingTests.TwoTokenizations(rng, rng.Next(1, 80));
            if (t % 2 == 1)
            {
                s = DynamicTimeWarpingTests.TwoTokenizations(rng, rng.Next(1, 40)).Source;
            }
            Check(p, s, suffixBoundLimit: 0);
        }
    }

    [Fact]
    public void SuffixBoundEqualsTheScalarBackwardPass()
    {
        // Sizes around the vector widths, one-row and one-column matrices, and values that reach the cap.
        var rng = new Random(37);
        foreach (var (n, m, longTokens) in new[] { (1, 1, false), (1, 9, false), (9, 1, false), (15, 17, false), (16, 16, false), (31, 33, false), (32, 32, false), (33, 2, false), (70, 45, false), (130, 97, false), (60, 60, true) })
        {
            // Long tokens: pivot tokens of the capped length against empty ones, so that sums pass the cap.
            var pivot = Tokens(rng, n, longTokens ? SuffixLowerBound.LengthCap : -1);
            var source = Tokens(rng, m, longTokens ? 0 : -1);
            var h = new short[SuffixLowerBound.Slots(n, m)];
            var rowBase = new int[n];
            SuffixLowerBound.Fill(n, m, pivot, source, h, rowBase);
            int Stored(int i, int j) => h[rowBase[i] + (i + j) * SuffixLowerBound.Stride];
            // The exact DP over the grid, where a cell outside it is the cap except the virtual end cell (n-1, m): 0.
            var expected = new int[n, m];
            int Next(int i, int j) => i == n - 1 && j == m ? 0 : i >= n || j >= m ? SuffixLowerBound.Cap : expected[i, j];
            for (var i = n - 1; i >= 0; i--)
            {
                for (var j = m - 1; j >= 0; j--)
                {
                    var next = Math.Min(Next(i, j + 1), Math.Min(Next(i + 1, j), Next(i + 1, j + 1)));
                    expected[i, j] = Math.Min(SuffixLowerBound.Cap, next + SuffixLowerBound.CellBound(pivot, i, source, m - 1 - j));
                    Assert.True(expected[i, j] == Stored(i, j), $"{n}x{m} H({i},{j}) = {Stored(i, j)}, expected {expected[i, j]}");
                }
                // Past the last column: the virtual end on the last row, the cap above it (what the DTW's remaining
                // bound of the last column reads).
                Assert.Equal(i == n - 1 ? 0 : SuffixLowerBound.Cap, Stored(i, m));
            }
            if (longTokens)
            {
                Assert.Equal(SuffixLowerBound.Cap, Stored(0, 0));
            }
        }
    }

    [Fact]
    public void CellBoundNeverExceedsTheCost()
    {
        // The suffix bound's cell bound, from stripped lengths and 32 character buckets, bare markers included.
        var rng = new Random(41);
        string[] alphabet = ["a", "b", "q", "th", "é", "日", "▁", "Ġ", "x", "Ω"];
        var registry = new DtwTokenRegistry();
        SuffixBoundTokens left = new(), right = new();
        left.Ensure(1);
        right.Ensure(1);
        for (var t = 0; t < 5000; t++)
        {
            var a = Token(rng, alphabet, rng.Next(1, 7));
            var b = Token(rng, alphabet, rng.Next(1, 7));
            DtwToken ta = registry.Get(a), tb = registry.Get(b);
            var (l, r) = TokenMarkers.ComparisonForms(a, b);
            var cost = EditDistanceAndMarkersTests.Naive(l, r);
            left.Set(0, 1, ta.Length, ta.Mask);
            right.Set(0, (short)(l == r ? 1 : 2), tb.Length, tb.Mask);
            var bound = SuffixLowerBound.CellBound(left, 0, right, 0);
            Assert.True(bound <= cost, $"bound({a},{b}) = {bound} > cost {cost}");
        }
    }

    [Fact]
    public void TableCostEqualsTheEditDistanceOfTheComparisonForms()
    {
        // Single characters and tokens that share no character bucket take exact shortcuts instead of the DP; every
        // path must give the edit distance of the comparison forms, bare markers included.
        var rng = new Random(43);
        string[] alphabet = ["a", "b", "q", "th", "é", "日", "▁", "Ġ", "x", "Ω", ".", "\n", "A"];
        var registry = new DtwTokenRegistry();
        var table = new DtwTokenTable();
        var shortcuts = 0;
        for (var t = 0; t < 4000; t++)
        {
            var a = Token(rng, alphabet, rng.Next(1, t % 2 == 0 ? 3 : 6));
            var b = Token(rng, alphabet, rng.Next(1, t % 3 == 0 ? 2 : 6));
            table.Begin(registry);
            var pivot = table.InternPivot(registry.Get(a));
            var source = table.InternSource(registry.Get(b));
            table.BeginCosts();
            var (l, r) = TokenMarkers.ComparisonForms(a, b);
            var expected = EditDistanceAndMarkersTests.Naive(l, r);
            Assert.True(expected == table.Cost(pivot, source, 0, DtwTokenTable.Infinity), $"cost({a}, {b}) != {expected}");
            shortcuts += l.Length == 1 || r.Length == 1 || expected == Math.Max(l.Length, r.Length) ? 1 : 0;
        }
        // Both kinds of pair, shortcut and DP, were drawn often enough to matter.
        Assert.True(shortcuts >= 500 && 4000 - shortcuts >= 300, $"{shortcuts} of 4000 pairs took a shortcut");
    }

    [Theory]
    // No shared character bucket: every character of the longer token is an edit (the length difference alone says 5).
    [InlineData("\n", "<0x0A>", 6)]
    [InlineData(".", "://", 3)]
    // Repeated characters can match only once per shared bucket and repeat: "aaaa" against "ab" still needs 3.
    [InlineData("aaaa", "ab", 3)]
    public void CellBoundCountsCharactersNoEditScriptCanMatch(string a, string b, int expected)
    {
        var registry = new DtwTokenRegistry();
        DtwToken ta = registry.Get(a), tb = registry.Get(b);
        SuffixBoundTokens left = new(), right = new();
        left.Ensure(1);
        right.Ensure(1);
        left.Set(0, 1, ta.Length, ta.Mask);
        right.Set(0, 2, tb.Length, tb.Mask);
        Assert.Equal(expected, EditDistanceAndMarkersTests.Naive(a, b));
        Assert.Equal(expected, SuffixLowerBound.CellBound(left, 0, right, 0));
        Assert.Equal(expected, DynamicTimeWarping.LowerBound(ta, tb));
    }

    // Random attributes; a length of -1 draws short random lengths.
    private static SuffixBoundTokens Tokens(Random rng, int count, int length)
    {
        var tokens = new SuffixBoundTokens();
        tokens.Ensure(count);
        for (var k = 0; k < count; k++)
        {
            tokens.Set(k, (short)rng.Next(5), length >= 0 ? length : rng.Next(7), (uint)rng.NextInt64(1L << 32));
        }
        return tokens;
    }

    private static void Check(string[] p, string[] s, long suffixBoundLimit = long.MaxValue)
    {
        var expected = DynamicTimeWarpingTests.Reference(p, s);
        var actual = DynamicTimeWarping.Align(p, s, suffixBoundLimit);
        Assert.Equal(expected.Cost, actual.Cost);
        Assert.Equal(expected.Pivots, actual.PathPivots);
        Assert.Equal(expected.Sources, actual.PathSources);
    }

    private static string Token(Random rng, string[] alphabet, int pieces) =>
        string.Concat(Enumerable.Range(0, pieces).Select(_ => alphabet[rng.Next(alphabet.Length)]));
}
