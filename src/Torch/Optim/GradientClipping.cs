namespace FuseChat.Torch.Optim;

/// <summary>Global gradient-norm clipping (torch.nn.utils.clip_grad_norm_).</summary>
public static unsafe class GradientClipping
{
    /// <summary>
    /// Scales all gradients so that their joint L2 norm is at most <paramref name="maxNorm"/> and returns
    /// the norm measured before clipping (NaN or infinity when a gradient is not finite; check it).
    /// A <paramref name="maxNorm"/> of 0 or less only measures.
    /// </summary>
    public static double ClipGradNorm(IReadOnlyList<Tensor> parameters, double maxNorm)
    {
        var handles = Tensor.Handles(parameters);
        double total;
        fixed (IntPtr* h = handles)
            NativeMethods.Check(NativeMethods.fct_clip_grad_norm(h, handles.Length, maxNorm, out total));
        return total;
    }
}
