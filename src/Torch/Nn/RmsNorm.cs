namespace FuseChat.Torch.Nn;

/// <summary>Root-mean-square normalisation with a learned scale (Llama).</summary>
public sealed class RmsNorm : Module
{
    private readonly double eps;

    /// <summary>Creates the layer with unit scale.</summary>
    public RmsNorm(long dim, double eps = 1e-6, DType dtype = DType.Float32, Device? device = null)
    {
        this.eps = eps;
        Weight = RegisterParameter("weight", Tensor.Ones([dim], dtype, device));
    }

    /// <summary>[dim].</summary>
    public Tensor Weight { get; }

    /// <summary>Normalises over the last dimension.</summary>
    public Tensor Forward(Tensor x) => Functional.RmsNorm(x, Weight, eps);
}
