namespace FuseChat.Torch;

public sealed unsafe partial class Tensor
{
    /// <summary>Whether autograd records operations on this tensor.</summary>
    public bool RequiresGrad
    {
        get => NativeMethods.fct_requires_grad(Handle) != 0;
        set => NativeMethods.Check(NativeMethods.fct_set_requires_grad(Handle, value ? 1 : 0));
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor (for fluent construction).</summary>
    public Tensor RequiresGradient(bool on = true)
    {
        RequiresGrad = on;
        return this;
    }

    /// <summary>True for tensors created by the user rather than by an operation recorded by autograd.</summary>
    public bool IsLeaf => NativeMethods.fct_is_leaf(Handle) != 0;

    /// <summary>
    /// The accumulated gradient as a new handle (owned by the current scope), or null when none was computed.
    /// Setting it replaces the gradient; null removes it.
    /// </summary>
    public Tensor? Grad
    {
        get
        {
            NativeMethods.Check(NativeMethods.fct_grad(Handle, out var g));
            return g == IntPtr.Zero ? null : new Tensor(g);
        }
        set => NativeMethods.Check(NativeMethods.fct_set_grad(Handle, OptionalHandle(value)));
    }

    /// <summary>Computes gradients of this (scalar, unless <paramref name="gradient"/> is given) tensor.</summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false) =>
        NativeMethods.Check(NativeMethods.fct_backward(Handle, OptionalHandle(gradient), retainGraph ? 1 : 0));

    /// <summary>
    /// Clears the gradients of <paramref name="tensors"/>: releases them (the default, like PyTorch 2.x)
    /// or zeroes them in place.
    /// </summary>
    public static void ZeroGrad(IReadOnlyList<Tensor> tensors, bool setToNone = true)
    {
        var handles = Handles(tensors);
        fixed (IntPtr* h = handles) NativeMethods.Check(NativeMethods.fct_zero_grad(h, handles.Length, setToNone ? 1 : 0));
    }
}
