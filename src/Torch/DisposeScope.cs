namespace FuseChat.Torch;

/// <summary>
/// Owns every tensor created on this thread while it is the innermost open scope, and disposes them
/// when it is disposed: a training step wrapped in a scope frees all of its intermediates at once.
/// Tensors to keep are moved out with <see cref="Tensor.MoveToOuterScope"/> or <see cref="Tensor.DetachFromScope"/>.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;

    private const int MinCompactAt = 256;
    private readonly List<Tensor> owned = new();
    private int compactAt = MinCompactAt;
    private readonly DisposeScope? outer;
    private bool disposed;

    private DisposeScope(DisposeScope? outer) => this.outer = outer;

    /// <summary>The innermost open scope of this thread, if any.</summary>
    public static DisposeScope? Current => current;

    /// <summary>Opens a scope that becomes the innermost one on this thread.</summary>
    public static DisposeScope Open() => current = new DisposeScope(current);

    /// <summary>The scope this one is nested in.</summary>
    public DisposeScope? Outer => outer;

    /// <summary>Tensors currently owned (for diagnostics and tests).</summary>
    public int Count
    {
        get
        {
            var n = 0;
            foreach (var t in owned) if (ReferenceEquals(t.Scope, this) && !t.IsDisposed) n++;
            return n;
        }
    }

    internal void Add(Tensor tensor)
    {
        tensor.Scope = this;
        // Drop entries already disposed or moved elsewhere once the list has doubled, so that a long-lived
        // scope whose tensors are disposed as it goes does not hold on to them (amortised O(1)).
        if (owned.Count >= compactAt)
        {
            owned.RemoveAll(t => t.IsDisposed || !ReferenceEquals(t.Scope, this));
            compactAt = Math.Max(MinCompactAt, 2 * owned.Count);
        }
        owned.Add(tensor);
    }

    /// <summary>Disposes every tensor still owned and closes the scope.</summary>
    public void Dispose()
    {
        if (disposed) return;
        // Scopes must close innermost first; closing an outer one also closes the scopes still open
        // inside it on this thread, so that no later tensor is registered with a dead scope.
        for (var s = current; s is not null; s = s.outer)
        {
            if (!ReferenceEquals(s, this)) continue;
            while (!ReferenceEquals(current, this)) current!.Dispose();
            break;
        }
        disposed = true;
        if (ReferenceEquals(current, this)) current = outer;
        foreach (var t in owned)
            if (ReferenceEquals(t.Scope, this)) t.Dispose();
        owned.Clear();
    }
}
