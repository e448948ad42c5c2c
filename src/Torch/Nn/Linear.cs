namespace FuseChat.Torch.Nn;

/// <summary>y = x Wᵀ (+ b), W of shape [out, in] as in Hugging Face checkpoints.</summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer with weights drawn from Normal(0, <paramref name="std"/>).</summary>
    public Linear(long inFeatures, long outFeatures, bool bias = false, double std = 0.02, DType dtype = DType.Float32, Device? device = null)
    {
        Weight = RegisterParameter("weight", Init.Normal([outFeatures, inFeatures], std, dtype, device));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros([outFeatures], dtype, device));
    }

    /// <summary>[out, in].</summary>
    public Tensor Weight { get; }

    /// <summary>[out], when the layer has a bias.</summary>
    public Tensor? Bias { get; }

    /// <summary>Applies the layer.</summary>
    public Tensor Forward(Tensor x) => Functional.Linear(x, Weight, Bias);
}
