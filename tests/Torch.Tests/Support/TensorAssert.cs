namespace FuseChat.Torch.Tests.Support;

/// <summary>Assertions on tensor contents.</summary>
internal static class TensorAssert
{
    /// <summary>The elements as float64 (row-major), whatever the dtype.</summary>
    public static double[] Values(Tensor t)
    {
        using var d = t.To(DType.Float64);
        return d.ToArray<double>();
    }

    /// <summary>Asserts the shape and that every element is within tol (absolute + relative) of the expected one.</summary>
    public static void Close(double[] expected, Tensor actual, double tol = 1e-6, long[]? shape = null)
    {
        if (shape is not null) Assert.Equal(shape, actual.Shape);
        var values = Values(actual);
        Assert.Equal(expected.Length, values.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var e = expected[i];
            var a = values[i];
            if (double.IsNaN(e)) { Assert.True(double.IsNaN(a), $"element {i}: expected NaN, got {a}"); continue; }
            if (double.IsInfinity(e)) { Assert.True(e == a, $"element {i}: expected {e}, got {a}"); continue; }
            Assert.True(Math.Abs(a - e) <= tol * (1 + Math.Abs(e)),
                $"element {i}: expected {e:R}, got {a:R} (|diff| {Math.Abs(a - e):E2} > tol {tol:E1}); all: [{string.Join(", ", values)}]");
        }
    }

    /// <summary>Asserts a one-element tensor's value.</summary>
    public static void Close(double expected, Tensor actual, double tol = 1e-6) => Close([expected], actual, tol);

    /// <summary>Asserts exact equality of elements read as <typeparamref name="T"/> (so the dtype must match too).</summary>
    public static void Equal<T>(T[] expected, Tensor actual, long[]? shape = null) where T : unmanaged
    {
        Assert.Equal(Tensor.DTypeOf<T>(), actual.DType);
        if (shape is not null) Assert.Equal(shape, actual.Shape);
        Assert.Equal(expected, actual.ToArray<T>());
    }
}
