namespace FuseChat.Torch;

public sealed unsafe partial class Tensor
{
    /// <summary>An uninitialised tensor.</summary>
    public static Tensor Empty(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape) return Wrap(NativeMethods.fct_empty(s, shape.Length, (int)dtype, (int)d.Type, d.Index));
    }

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(ReadOnlySpan<long> shape, double value, DType dtype = DType.Float32, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape) return Wrap(NativeMethods.fct_full(s, shape.Length, value, (int)dtype, (int)d.Type, d.Index));
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null) => Full(shape, 0, dtype, device);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null) => Full(shape, 1, dtype, device);

    /// <summary>A one-element, zero-dimensional tensor.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32, Device? device = null) => Full([], value, dtype, device);

    /// <summary>Values start, start+step, ... below end.</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Int64, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        return Wrap(NativeMethods.fct_arange(start, end, step, (int)dtype, (int)d.Type, d.Index));
    }

    /// <summary>Standard normal samples from libtorch's generator.</summary>
    public static Tensor Randn(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape) return Wrap(NativeMethods.fct_randn(s, shape.Length, (int)dtype, (int)d.Type, d.Index));
    }

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor Rand(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape) return Wrap(NativeMethods.fct_rand(s, shape.Length, (int)dtype, (int)d.Type, d.Index));
    }

    /// <summary>Uniform integers in [low, high).</summary>
    public static Tensor RandInt(long low, long high, ReadOnlySpan<long> shape, DType dtype = DType.Int64, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        fixed (long* s = shape) return Wrap(NativeMethods.fct_randint(low, high, s, shape.Length, (int)dtype, (int)d.Type, d.Index));
    }

    /// <summary>A tensor of zeros with this tensor's shape, dtype and device.</summary>
    public Tensor ZerosLike() => Zeros(Shape, DType, Device);

    /// <summary>A tensor of ones with this tensor's shape, dtype and device.</summary>
    public Tensor OnesLike() => Ones(Shape, DType, Device);
}
