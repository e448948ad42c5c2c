using FuseChat.Fusion.Alignment;
using FuseChat.Fusion.Training;

namespace FuseChat.Fusion.Tests.Training;

public class MinCeSelectionTests
{
    private static TopKTargets Targets(int length, int k, long idBase, params int[] missing)
    {
        var ids = new long[length * k];
        var logits = new float[length * k];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = idBase + i;
            logits[i] = -i;
        }
        foreach (var p in missing)
            for (var j = 0; j < k; j++) logits[p * k + j] = float.NegativeInfinity;
        return new TopKTargets(length, k, ids, logits);
    }

    [Theory]
    [InlineData(2.0, 1.0, true)]     // source has the lower CE: larger r
    [InlineData(1.0, 2.0, false)]
    [InlineData(1.5, 1.5, false)]    // tie: pivot
    [InlineData(1.0, double.NaN, false)]
    [InlineData(double.NaN, 1.0, true)]
    [InlineData(800.0, 900.0, false)] // both r underflow to 0: tie, pivot
    public void PrefersTheSourceOnlyWhenItsRatioIsLarger(double pivotCe, double sourceCe, bool expected) =>
        Assert.Equal(expected, MinCeSelection.PrefersSource(pivotCe, sourceCe));

    [Fact]
    public void UsesTheSourceAndFallsBackToThePivotWhereTheSourceHasNoEntry()
    {
        var pivot = Targets(3, 2, 100);
        var source = Targets(3, 3, 200, missing: 1);
        var (targets, usedSource) = MinCeSelection.Select(pivot, 2.0, source, 1.0);
        Assert.True(usedSource);
        Assert.Equal(3, targets.K);
        Assert.Equal([200, 201, 202], targets.Ids[0..3]);
        // Position 1: the pivot's two entries, then a padding slot (id 0, -inf).
        Assert.Equal([102, 103, 0], targets.Ids[3..6]);
        Assert.Equal([-2f, -3f, float.NegativeInfinity], targets.Logits[3..6]);
        Assert.Equal([206, 207, 208], targets.Ids[6..9]);
    }

    [Fact]
    public void KeepsThePivotsOwnWhenThePivotWins()
    {
        var pivot = Targets(2, 2, 100);
        var source = Targets(2, 2, 200);
        var (targets, usedSource) = MinCeSelection.Select(pivot, 1.0, source, 1.0);
        Assert.False(usedSource);
        Assert.Equal(pivot.Ids, targets.Ids);
        Assert.Equal(pivot.Logits, targets.Logits);
        Assert.False(MinCeSelection.Select(pivot, 1.0, null, 0.5).UsedSource);
    }

    [Fact]
    public void ConvertsAlignedDistributionsWithValidIdsForUnusedSlots()
    {
        var aligned = new AlignedDistributions(2, 2);
        aligned.Ids[0] = 5;
        aligned.Logits[0] = 1.5f;
        aligned.Counts[0] = 1;
        var targets = TopKTargets.From(aligned);
        Assert.Equal([5L, 0, 0, 0], targets.Ids);
        Assert.True(targets.HasEntry(0));
        Assert.False(targets.HasEntry(1));
    }
}
