namespace FuseChat.Torch.Nn;

/// <summary>A lookup table of [count, dim] vectors.</summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table with entries drawn from Normal(0, <paramref name="std"/>).</summary>
    public Embedding(long count, long dim, double std = 0.02, DType dtype = DType.Float32, Device? device = null)
    {
        Weight = RegisterParameter("weight", Init.Normal([count, dim], std, dtype, device));
    }

    /// <summary>[count, dim].</summary>
    public Tensor Weight { get; }

    /// <summary>Looks up the rows of <paramref name="ids"/>.</summary>
    public Tensor Forward(Tensor ids) => Functional.Embedding(Weight, ids);
}
