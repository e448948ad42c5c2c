using FuseChat.Fusion.Merging;
using FuseChat.Torch;
using static FuseChat.Fusion.Tests.Merging.MergeTestData;

namespace FuseChat.Fusion.Tests.Merging;

public class SceMergeTests
{
    [Fact]
    public void WeightsEraseAndZeroDivisorWithoutSelection()
    {
        using var scope = DisposeScope.Open();
        var pivot = M(1, 1, 1, 1, 1, 1);
        var a = Plus(pivot, 1, -2, 0, 2, 1, 0);
        var b = Plus(pivot, 3, 1, 0, -1, 1, 0);
        var merged = new SceMerge().Merge("model.layers.0.mlp.up_proj.weight", pivot, [a, b], Uniform(2), new MergeParameters());
        // tau = 1: no mask. mean(d_a^2) = (1+4+0+4+1+0)/6 = 10/6, mean(d_b^2) = (9+1+0+1+1+0)/6 = 12/6
        //   -> w = (5/11, 6/11).
        // sum d = [4, -1, 0, 1, 2, 0] -> sign+ = [+, -, +, +, +, +]
        // e_a = [1, 1, 0, 1, 1, 0] (d_a = 0 at 2 and 5 has sign 0), e_b = [1, 0, 0, 0, 1, 0]
        // 0: (5*1 + 6*3)/11 = 23/11; 1: only a -> -2; 2: divisor 0 -> 1, numerator 0 -> 0;
        // 3: only a -> 2; 4: (5+6)/11 = 1; 5: 0. Plus the pivot's 1.
        AssertValues([1 + 23f / 11, -1, 1, 3, 2, 1], merged);
    }

    [Fact]
    public void HalfPrecisionInputsAreComputedAndReturnedInFloat32()
    {
        using var scope = DisposeScope.Open();
        var pivot = M(1, 1, 1, 1, 1, 1);
        var a = Plus(pivot, 1, -2, 0, 2, 1, 0).To(DType.BFloat16);
        var b = Plus(pivot, 3, 1, 0, -1, 1, 0).To(DType.Float16);
        var merged = new SceMerge().Merge("w", pivot.To(DType.BFloat16), [a, b], Uniform(2), new MergeParameters());
        // Same numbers as above, all exactly representable in bf16/f16.
        AssertValues([1 + 23f / 11, -1, 1, 3, 2, 1], merged);
    }

    // Three targets around a zero pivot. Population variance over the targets per position:
    //   0: (1,1,1) -> 0; 1: (0,0,0) -> 0; 2: (2,-2,0) -> 8/3; 3: (5,-5,0) -> 50/3; 4: (1,3,-4) -> 26/3; 5: 0.
    // nnz(var) = 3; tau = 0.7 -> floor(2.1) = 2 -> mask = {3, 4}.
    private static (Tensor Pivot, Tensor[] Models) ThreeTargets() =>
    (
        M(0, 0, 0, 0, 0, 0),
        [M(1, 0, 2, 5, 1, 0), M(1, 0, -2, -5, 3, 0), M(1, 0, 0, 0, -4, 0)]
    );

    [Fact]
    public void UpstreamVariantMasksTheDeltasThemselves()
    {
        using var scope = DisposeScope.Open();
        var (pivot, models) = ThreeTargets();
        var merged = new SceMerge(SceVariant.Upstream).Merge("w", pivot, models, Uniform(3), new MergeParameters { SelectTopK = 0.7 });
        // Masked deltas: a = [0,0,0,5,1,0], b = [0,0,0,-5,3,0], c = [0,0,0,0,-4,0].
        // mean squares 26/6, 34/6, 16/6 -> w = (13, 17, 8)/38.
        // Sums at 3 and 4 are 0 -> sign+ = +1. Position 3: only a (+5) agrees -> 5.
        // Position 4: a (+1) and b (+3) agree -> (13*1 + 17*3)/(13 + 17) = 64/30. Unselected positions keep the pivot.
        AssertValues([0, 0, 0, 5, 64f / 30, 0], merged);
    }

    [Fact]
    public void PaperVariantMasksOnlyTheWeightsSoTheVariantsDiffer()
    {
        using var scope = DisposeScope.Open();
        var (pivot, models) = ThreeTargets();
        var merged = new SceMerge(SceVariant.Paper).Merge("w", pivot, models, Uniform(3), new MergeParameters { SelectTopK = 0.7 });
        // Weights as in the upstream case: (13, 17, 8)/38, from the masked deltas.
        // Erase and sum use the full deltas: sum = [3, 0, 0, 0, 0, 0] -> sign+ = + everywhere.
        // 0: all three +1 agree -> 1 (weights cancel); 1: all zero -> divisor 0 -> 1 -> 0;
        // 2: only a (+2) -> 2; 3: only a (+5) -> 5; 4: a, b -> 64/30; 5: 0.
        // Positions 0 and 2 lie outside the mask: the upstream variant leaves them at 0.
        AssertValues([1, 0, 2, 5, 64f / 30, 0], merged);
    }

    [Fact]
    public void SelectionKeepsTheFloorOfTauTimesNonZeroVariances()
    {
        using var scope = DisposeScope.Open();
        var (pivot, models) = ThreeTargets();
        // tau = 0.5 -> floor(1.5) = 1 -> mask = {3} (variance 50/3). Only a agrees at 3 (sum 0 -> +).
        var merged = new SceMerge(SceVariant.Upstream).Merge("w", pivot, models, Uniform(3), new MergeParameters { SelectTopK = 0.5 });
        AssertValues([0, 0, 0, 5, 0, 0], merged);
    }

    [Fact]
    public void SelectionBreaksVarianceTiesByLowestPosition()
    {
        using var scope = DisposeScope.Open();
        var pivot = T([1, 4], 0, 0, 0, 0);
        var a = T([1, 4], 1, 1, 1, 0);
        var b = T([1, 4], -1, -1, -1, 0);
        // var = [1, 1, 1, 0], nnz = 3. Masked weights are equal (w = 1/2 each); sums are 0 -> +, so a's +1 survives.
        // tau = 0.5 -> k = floor(1.5) = 1 -> position 0 only; tau = 0.7 -> k = floor(2.1) = 2 -> positions 0 and 1.
        var one = new SceMerge(SceVariant.Upstream).Merge("w", pivot, [a, b], Uniform(2), new MergeParameters { SelectTopK = 0.5 });
        AssertValues([1, 0, 0, 0], one);
        var two = new SceMerge(SceVariant.Upstream).Merge("w", pivot, [a, b], Uniform(2), new MergeParameters { SelectTopK = 0.7 });
        AssertValues([1, 1, 0, 0], two);
    }

    [Fact]
    public void EmptySelectionGivesUniformWeights()
    {
        using var scope = DisposeScope.Open();
        var pivot = T([1, 3], 0, 0, 0);
        var a = T([1, 3], 1, 2, 0);
        var b = T([1, 3], 3, -2, 0);
        var global = new MergeParameters { SelectTopK = 0.2 };
        // var = [1, 4, 0], nnz = 2, k = floor(0.4) = 0: every masked mean square is 0 -> w = (1/2, 1/2).
        // Paper: sum d = [4, 0, 0] -> + everywhere; 0: (1 + 3)/2 = 2; 1: only a -> 2; 2: 0.
        AssertValues([2, 2, 0], new SceMerge(SceVariant.Paper).Merge("w", pivot, [a, b], Uniform(2), global));
        // Upstream: every delta is masked away -> the pivot.
        AssertValues([0, 0, 0], new SceMerge(SceVariant.Upstream).Merge("w", pivot, [a, b], Uniform(2), global));
    }

    [Fact]
    public void DoesNotDisposeOrLeakIntoTheCallersScope()
    {
        using var scope = DisposeScope.Open();
        var (pivot, models) = ThreeTargets();
        var before = scope.Count;
        var merged = new SceMerge().Merge("w", pivot, models, Uniform(3), new MergeParameters { SelectTopK = 0.7 });
        Assert.Equal(before + 1, scope.Count);
        Assert.False(pivot.IsDisposed);
        Assert.All(models, m => Assert.False(m.IsDisposed));
        Assert.False(merged.IsDisposed);
    }
}
