namespace FuseChat.Torch.Tests.Support;

/// <summary>Short constructors for literal test tensors (all on the CPU, owned by the current scope).</summary>
internal static class Make
{
    public static Tensor F64(double[] data, params long[] shape) => Tensor.From<double>(data, shape.Length == 0 ? [data.Length] : shape);

    public static Tensor F32(float[] data, params long[] shape) => Tensor.From<float>(data, shape.Length == 0 ? [data.Length] : shape);

    public static Tensor I64(long[] data, params long[] shape) => Tensor.From<long>(data, shape.Length == 0 ? [data.Length] : shape);

    public static Tensor I32(int[] data, params long[] shape) => Tensor.From<int>(data, shape.Length == 0 ? [data.Length] : shape);

    public static Tensor Bool(bool[] data, params long[] shape) => Tensor.From<bool>(data, shape.Length == 0 ? [data.Length] : shape);

    /// <summary>Deterministic, irregular float64 values (no RNG: tests in parallel share libtorch's generator).</summary>
    public static double[] Values(int count, double offset = 0, double scale = 1)
    {
        var v = new double[count];
        for (var i = 0; i < count; i++) v[i] = scale * Math.Sin(1.7 * i + 0.3 + offset) + 0.1 * Math.Cos(0.9 * i + offset);
        return v;
    }

    /// <summary>A float64 tensor of <see cref="Values"/>.</summary>
    public static Tensor Det(long[] shape, double offset = 0, double scale = 1)
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        return Tensor.From<double>(Values(checked((int)n), offset, scale), shape);
    }

    /// <summary>A float64 tensor of strictly positive deterministic values in [0.5, 2.5].</summary>
    public static Tensor Positive(long[] shape, double offset = 0)
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        var v = Values(checked((int)n), offset);
        for (var i = 0; i < v.Length; i++) v[i] = 1.5 + 0.9 * v[i];
        return Tensor.From<double>(v, shape);
    }
}
