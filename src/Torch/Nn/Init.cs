namespace FuseChat.Torch.Nn;

/// <summary>Parameter initialisers.</summary>
public static class Init
{
    /// <summary>Normal(0, std) samples from libtorch's seeded generator.</summary>
    public static Tensor Normal(ReadOnlySpan<long> shape, double std, DType dtype = DType.Float32, Device? device = null)
    {
        using var r = Tensor.Randn(shape, DType.Float32, device);
        using var scaled = r * std;
        return scaled.To(dtype);
    }
}
