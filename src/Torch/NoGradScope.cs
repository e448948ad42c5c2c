namespace FuseChat.Torch;

/// <summary>Disables autograd recording on this thread until disposed (torch.no_grad()).</summary>
public readonly struct NoGradScope : IDisposable
{
    private readonly bool previous;

    private NoGradScope(bool previous) => this.previous = previous;

    /// <summary>Turns gradient recording off; disposing restores the previous mode.</summary>
    public static NoGradScope Enter() => new(NativeMethods.fct_set_grad_enabled(0) != 0);

    /// <summary>Restores the previous grad mode.</summary>
    public void Dispose() => NativeMethods.fct_set_grad_enabled(previous ? 1 : 0);
}
