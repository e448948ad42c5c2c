namespace FuseChat.Torch.Nn;

/// <summary>
/// A building block that owns named parameters and sub-modules, like torch.nn.Module. Parameters are
/// owned by the module (never by a dispose scope) and freed when the module is disposed.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<(string Name, Tensor Tensor)> parameters = new();
    private readonly List<(string Name, Module Module)> children = new();
    private bool disposed;

    /// <summary>True while the module is in training mode (dropout etc.).</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Registers a tensor as a trainable parameter under <paramref name="name"/>.</summary>
    protected Tensor RegisterParameter(string name, Tensor tensor, bool requiresGrad = true)
    {
        tensor.DetachFromScope();
        if (requiresGrad && tensor.DType.IsFloatingPoint()) tensor.RequiresGrad = true;
        parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers a child module under <paramref name="name"/>.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        children.Add((name, module));
        return module;
    }

    /// <summary>All parameters with dotted names ("layers.0.attn.q.weight"), in registration order.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters()
    {
        foreach (var p in parameters) yield return p;
        foreach (var (childName, child) in children)
            foreach (var (name, tensor) in child.NamedParameters())
                yield return ($"{childName}.{name}", tensor);
    }

    /// <summary>All parameters, in registration order.</summary>
    public IReadOnlyList<Tensor> Parameters() => NamedParameters().Select(p => p.Tensor).ToList();

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount() => NamedParameters().Sum(p => p.Tensor.NumberOfElements);

    /// <summary>Switches this module and its children to training (true) or evaluation mode.</summary>
    public void Train(bool on = true)
    {
        Training = on;
        foreach (var (_, child) in children) child.Train(on);
    }

    /// <summary>Releases all parameter gradients.</summary>
    public void ZeroGrad() => Tensor.ZeroGrad(Parameters());

    /// <summary>Frees what a derived module owns besides parameters and children (caches, tables).</summary>
    protected virtual void ReleaseResources() { }

    /// <summary>Frees every parameter of this module and its children.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        ReleaseResources();
        foreach (var (_, t) in parameters) t.Dispose();
        foreach (var (_, c) in children) c.Dispose();
        GC.SuppressFinalize(this);
    }
}
