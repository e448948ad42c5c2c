using FuseChat.Fusion.Merging;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Merging;

/// <summary>Small tensors and assertions for the merge tests.</summary>
internal static class MergeTestData
{
    public static Tensor T(long[] shape, params float[] values) => Tensor.From<float>(values, shape);

    /// <summary>A 2x3 float32 tensor.</summary>
    public static Tensor M(params float[] values) => T([2, 3], values);

    /// <summary>pivot + delta, element-wise, as a new tensor of the pivot's shape.</summary>
    public static Tensor Plus(Tensor pivot, params float[] delta)
    {
        using var d = T(pivot.Shape, delta);
        return pivot + d;
    }

    public static ModelMergeParameters[] Params(params double[] weights) =>
        weights.Select(w => new ModelMergeParameters(w)).ToArray();

    public static ModelMergeParameters[] Uniform(int n) => Enumerable.Repeat(new ModelMergeParameters(), n).ToArray();

    public static void AssertValues(float[] expected, Tensor actual, double tolerance = 1e-5)
    {
        Assert.Equal(DType.Float32, actual.DType);
        var values = actual.ToArray<float>();
        Assert.Equal(expected.Length, values.Length);
        for (var i = 0; i < values.Length; i++)
            Assert.True(Math.Abs(expected[i] - values[i]) <= tolerance,
                $"element {i}: expected {expected[i]}, got {values[i]} (all: [{string.Join(", ", values)}])");
    }
}
