using FuseChat.Fusion.Merging;
using FuseChat.Torch;
using static FuseChat.Fusion.Tests.Merging.MergeTestData;

namespace FuseChat.Fusion.Tests.Merging;

public class BaselineMergeTests
{
    [Fact]
    public void VarmWeighsEachMatrixByItsOwnDeltaVariance()
    {
        using var scope = DisposeScope.Open();
        var pivot = M(1, 1, 1, 1, 1, 1);
        var a = Plus(pivot, 1, 1, 1, 1, 1, 1);       // v_a = 1
        var b = Plus(pivot, 2, 2, 2, -2, -2, -2);    // v_b = 4
        // w = (1/5, 4/5); theta = 0.2 * 2 + 0.8 * 3 = 2.8 and 0.2 * 2 + 0.8 * (-1) = -0.4.
        // Recipe weights are ignored (VaRM computes its own).
        var merged = new VarmMerge().Merge("model.layers.0.mlp.up_proj.weight", pivot, [a, b], Params(5, 0.1), new MergeParameters());
        AssertValues([2.8f, 2.8f, 2.8f, -0.4f, -0.4f, -0.4f], merged);

        // Another matrix of the same models: here only a moved (v_a = 9, v_b = 0) -> w = (1, 0) -> a's values.
        var biasPivot = T([2], 0, 0);
        var biasA = T([2], 3, 3);
        var biasB = T([2], 0, 0);
        AssertValues([3, 3], new VarmMerge().Merge("bias", biasPivot, [biasA, biasB], Uniform(2), new MergeParameters()));
    }

    [Fact]
    public void LinearNormalisesByDefault()
    {
        using var scope = DisposeScope.Open();
        var pivot = M(0, 0, 0, 0, 0, 0);
        var a = M(1, 2, 3, 4, 5, 6);
        var b = M(3, 2, 1, 0, -1, -2);
        // (1*a + 3*b) / 4: (1+9)/4 = 2.5, (2+6)/4 = 2, (3+3)/4 = 1.5, 4/4 = 1, (5-3)/4 = 0.5, (6-6)/4 = 0.
        AssertValues([2.5f, 2, 1.5f, 1, 0.5f, 0], new LinearMerge().Merge("w", pivot, [a, b], Params(1, 3), new MergeParameters()));
        // Without normalisation: 1*a + 3*b.
        AssertValues([10, 8, 6, 4, 2, 0], new LinearMerge().Merge("w", pivot, [a, b], Params(1, 3), new MergeParameters { Normalize = false }));
    }

    [Fact]
    public void TaskArithmeticAddsWeightedDeltas()
    {
        using var scope = DisposeScope.Open();
        var pivot = M(1, 1, 1, 1, 1, 1);
        var a = Plus(pivot, 1, 0, -1, 2, 0, 0);
        var b = Plus(pivot, 0, 2, 1, -2, 0, 4);
        // 0.5 * d_a + 0.25 * d_b = [0.5, 0.5, -0.25, 0.5, 0, 1]; plus the pivot.
        AssertValues([1.5f, 1.5f, 0.75f, 1.5f, 1, 2], new TaskArithmeticMerge().Merge("w", pivot, [a, b], Params(0.5, 0.25), new MergeParameters()));
        // normalize: divided by 0.75 -> [2/3, 2/3, -1/3, 2/3, 0, 4/3]; plus the pivot.
        AssertValues([5f / 3, 5f / 3, 2f / 3, 5f / 3, 1, 7f / 3],
            new TaskArithmeticMerge().Merge("w", pivot, [a, b], Params(0.5, 0.25), new MergeParameters { Normalize = true }));
        // lambda scales the mixed delta: 2 * [0.5, 0.5, -0.25, 0.5, 0, 1] + 1.
        AssertValues([2, 2, 0.5f, 2, 1, 3], new TaskArithmeticMerge().Merge("w", pivot, [a, b], Params(0.5, 0.25), new MergeParameters { Lambda = 2 }));
    }

    // Density 0.5 on 6 entries keeps floor(3) = 3 largest magnitudes per delta:
    //   d_a = [4, -1, 3, 0.5, -2, 1.5]   -> |4|, |3|, |-2|  -> [4, 0, 3, 0, -2, 0]
    //   d_b = [-1, 2, -5, 0.25, 3, -0.5] -> |-5|, |3|, |2|  -> [0, 2, -5, 0, 3, 0]
    //   d_c = [-3, 0.5, 1, 4, 0.1, 0.2]  -> |4|, |-3|, |1|  -> [-3, 0, 1, 4, 0, 0]
    // Weights (1, 0.5, 1): weighted = a [4,0,3,0,-2,0], b [0,1,-2.5,0,1.5,0], c [-3,0,1,4,0,0].
    // Elected sign of the weighted sum: [1 -> +, 1 -> +, 1.5 -> +, 4 -> +, -0.5 -> -, 0 -> +].
    // (The unweighted trimmed sum at 2 is 3 - 5 + 1 = -1: the election must use the weighted deltas.)
    // Agreeing: 0: a (4; weight 1); 1: b (1; 0.5); 2: a, c (3 + 1; 1 + 1); 3: c (4; 1); 4: a (-2; 1); 5: none.
    private static (Tensor Pivot, Tensor[] Models, ModelMergeParameters[] Params) TiesCase() =>
    (
        M(0, 0, 0, 0, 0, 0),
        [M(4, -1, 3, 0.5f, -2, 1.5f), M(-1, 2, -5, 0.25f, 3, -0.5f), M(-3, 0.5f, 1, 4, 0.1f, 0.2f)],
        [new(1, 0.5), new(0.5, 0.5), new(1, 0.5)]
    );

    [Fact]
    public void TiesTrimsElectsSignsAndTakesTheDisjointMean()
    {
        using var scope = DisposeScope.Open();
        var (pivot, models, parameters) = TiesCase();
        // normalize (default): [4/1, 1/0.5, 4/2, 4/1, -2/1, 0 (divisor 0 -> 1)].
        AssertValues([4, 2, 2, 4, -2, 0], new TiesMerge().Merge("w", pivot, models, parameters, new MergeParameters()));
        // normalize = false: the agreeing weighted sums.
        AssertValues([4, 1, 4, 4, -2, 0], new TiesMerge().Merge("w", pivot, models, parameters, new MergeParameters { Normalize = false }));
    }

    [Fact]
    public void DareKeepsAboutDensityOfEachDeltaAndRescalesIt()
    {
        using var scope = DisposeScope.Open();
        var pivot = Tensor.Zeros([100, 100]);
        var ones = Tensor.Ones([100, 100]);
        var merged = new DareMerge(signConsensus: false).Merge("w", pivot, [ones], [new(1, 0.6)], new MergeParameters { Seed = 7 });
        var values = merged.ToArray<float>();
        var kept = values.Count(v => v != 0);
        // Binomial(10000, 0.6): standard deviation 49, so +-300 is a 6-sigma band.
        Assert.InRange(kept, 5700, 6300);
        // Kept entries are rescaled by 1/density, dropped ones are exactly 0.
        Assert.All(values, v => Assert.True(v == 0 || Math.Abs(v - 1 / 0.6f) < 1e-6, $"unexpected value {v}"));
    }

    [Fact]
    public void DareIsReproducibleWithASeedAndLeavesTheGlobalGeneratorAlone()
    {
        using var scope = DisposeScope.Open();
        TorchRuntime.ManualSeed(11);
        var pivot = Tensor.Randn([8, 16]);
        var a = pivot + Tensor.Randn([8, 16]);
        var b = pivot + Tensor.Randn([8, 16]);
        var parameters = new ModelMergeParameters[] { new(0.5, 0.6), new(0.5, 0.6) };
        var dare = new DareMerge(signConsensus: true);

        TorchRuntime.ManualSeed(5);
        var expectedDraw = Tensor.Rand([4]).ToArray<float>();

        TorchRuntime.ManualSeed(5);
        var first = dare.Merge("model.layers.0.self_attn.q_proj.weight", pivot, [a, b], parameters, new MergeParameters { Seed = 42 });
        Assert.Equal(expectedDraw, Tensor.Rand([4]).ToArray<float>());

        var again = dare.Merge("model.layers.0.self_attn.q_proj.weight", pivot, [a, b], parameters, new MergeParameters { Seed = 42 });
        Assert.Equal(first.ToArray<float>(), again.ToArray<float>());

        var otherSeed = dare.Merge("model.layers.0.self_attn.q_proj.weight", pivot, [a, b], parameters, new MergeParameters { Seed = 43 });
        Assert.NotEqual(first.ToArray<float>(), otherSeed.ToArray<float>());
        // The mask also depends on the tensor name, so same-shaped tensors do not share a drop pattern.
        var otherTensor = dare.Merge("model.layers.0.self_attn.k_proj.weight", pivot, [a, b], parameters, new MergeParameters { Seed = 42 });
        Assert.NotEqual(first.ToArray<float>(), otherTensor.ToArray<float>());
    }

    [Fact]
    public void DareAveragedOverSeedsApproachesTaskArithmetic()
    {
        using var scope = DisposeScope.Open();
        TorchRuntime.ManualSeed(3);
        var pivot = Tensor.Randn([4, 5]);
        var a = pivot + Tensor.Randn([4, 5]);
        var b = pivot + Tensor.Randn([4, 5]);
        var parameters = new ModelMergeParameters[] { new(0.5, 0.6), new(0.5, 0.6) };
        var expected = new TaskArithmeticMerge().Merge("w", pivot, [a, b], parameters, new MergeParameters()).ToArray<float>();

        const int seeds = 400;
        var sum = new double[expected.Length];
        for (var s = 0; s < seeds; s++)
        {
            using var inner = DisposeScope.Open();
            var merged = new DareMerge(signConsensus: false).Merge("w", pivot, [a, b], parameters, new MergeParameters { Seed = (ulong)s });
            var values = merged.ToArray<float>();
            for (var i = 0; i < sum.Length; i++) sum[i] += values[i];
        }
        // Per entry, 0.5 * d * keep / 0.6 has variance 0.25 d^2 (1 - 0.6)/0.6; for two |d| of order 1 the mean
        // of 400 draws has a standard deviation of about 0.03-0.06, so 0.25 is a wide band.
        for (var i = 0; i < sum.Length; i++)
            Assert.True(Math.Abs(sum[i] / seeds - expected[i]) < 0.25, $"entry {i}: mean {sum[i] / seeds} vs task arithmetic {expected[i]}");
    }

    [Fact]
    public void DareWithFullDensityIsTaskArithmeticOrTies()
    {
        using var scope = DisposeScope.Open();
        var (pivot, models, _) = TiesCase();
        var full = new ModelMergeParameters[] { new(1, 1), new(0.5, 1), new(1, 1) };
        TinyAssert.Same(new TaskArithmeticMerge().Merge("w", pivot, models, full, new MergeParameters()),
            new DareMerge(signConsensus: false).Merge("w", pivot, models, full, new MergeParameters()));
        TinyAssert.Same(new TiesMerge().Merge("w", pivot, models, full, new MergeParameters { Normalize = true }),
            new DareMerge(signConsensus: true).Merge("w", pivot, models, full, new MergeParameters { Normalize = true }));
    }

    public static TheoryData<string> AllMethods => new(MergeMethods.Names);

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void ModelsEqualToThePivotGiveThePivot(string method)
    {
        using var scope = DisposeScope.Open();
        var pivot = M(1, -2, 3, -4, 5, -6);
        var models = new[] { pivot.Clone(), pivot.Clone(), pivot.Clone() };
        var parameters = new ModelMergeParameters[] { new(0.2, 0.6), new(0.3, 0.6), new(0.5, 0.6) };
        foreach (var tau in new[] { 1.0, 0.1 })
        {
            var merged = MergeMethods.Create(method).Merge("w", pivot, models, parameters, new MergeParameters { SelectTopK = tau });
            AssertValues([1, -2, 3, -4, 5, -6], merged);
        }
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void InputsAreLeftUnchanged(string method)
    {
        using var scope = DisposeScope.Open();
        var (pivot, models, parameters) = TiesCase();
        var before = models.Select(m => m.ToArray<float>()).Append(pivot.ToArray<float>()).ToList();
        var merged = MergeMethods.Create(method).Merge("w", pivot, models, parameters, new MergeParameters { SelectTopK = 0.5 });
        var after = models.Select(m => m.ToArray<float>()).Append(pivot.ToArray<float>()).ToList();
        Assert.Equal(before, after);
        Assert.False(merged.IsDisposed);
    }

    private static class TinyAssert
    {
        public static void Same(Tensor expected, Tensor actual) => Assert.Equal(expected.ToArray<float>(), actual.ToArray<float>());
    }
}
