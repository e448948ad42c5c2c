namespace FuseChat.Torch.Optim;

/// <summary>
/// AdamW (decoupled weight decay, bias-corrected moments). Low-precision parameters (bf16, f16) are
/// updated through fp32 master copies kept here, so small updates are not lost to rounding; with
/// <see cref="AdamWOptions.StateDevice"/> every parameter gets a master, and masters and moments live on that device.
/// The whole update runs in one native call per step.
/// </summary>
public sealed unsafe class AdamW : IDisposable
{
    private readonly Tensor[] parameters;
    private readonly Tensor?[] masters;
    private readonly Tensor[] expAvg;
    private readonly Tensor[] expAvgSq;
    private readonly IntPtr[] parameterHandles;
    private readonly IntPtr[] masterHandles;
    private readonly IntPtr[] expAvgHandles;
    private readonly IntPtr[] expAvgSqHandles;
    private readonly AdamWOptions options;

    /// <summary>Creates the optimiser and its zeroed state for <paramref name="parameters"/>.</summary>
    public AdamW(IReadOnlyList<Tensor> parameters, AdamWOptions? options = null)
    {
        this.options = options ?? new AdamWOptions();
        this.options.Validate();
        LearningRate = this.options.LearningRate;
        var n = parameters.Count;
        this.parameters = parameters.ToArray();
        masters = new Tensor?[n];
        expAvg = new Tensor[n];
        expAvgSq = new Tensor[n];
        using (NoGradScope.Enter())
        {
            for (var i = 0; i < n; i++)
            {
                var p = parameters[i];
                if (!p.DType.IsFloatingPoint()) throw new ArgumentException($"parameter {i} is {p.DType.ShortName()}, not floating point");
                var stateDevice = this.options.StateDevice ?? p.Device;
                if (p.DType is DType.BFloat16 or DType.Float16 || this.options.StateDevice is not null)
                {
                    using var wide = p.To(p.DType == DType.Float64 ? DType.Float64 : DType.Float32);
                    var moved = wide.To(stateDevice);
                    // To() hands back the tensor itself when neither dtype nor device changes (an fp32 parameter whose
                    // state stays on its device): only then is a copy needed, so that the master never aliases it.
                    if (wide.DType == p.DType && stateDevice == p.Device)
                    {
                        using var alias = moved;
                        moved = alias.Clone();
                    }
                    masters[i] = moved.DetachFromScope();
                }
                var stateDtype = masters[i]?.DType ?? p.DType;
                expAvg[i] = Tensor.Zeros(p.Shape, stateDtype, stateDevice).DetachFromScope();
                expAvgSq[i] = Tensor.Zeros(p.Shape, stateDtype, stateDevice).DetachFromScope();
            }
        }
        parameterHandles = this.parameters.Select(p => p.Handle).ToArray();
        masterHandles = masters.Select(Tensor.OptionalHandle).ToArray();
        expAvgHandles = expAvg.Select(t => t.Handle).ToArray();
        expAvgSqHandles = expAvgSq.Select(t => t.Handle).ToArray();
    }

    /// <summary>The learning rate of the next step (a schedule sets it before each step).</summary>
    public double LearningRate { get; set; }

    /// <summary>Number of steps taken (drives bias correction; saved in checkpoints).</summary>
    public long StepCount { get; set; }

    /// <summary>The hyper-parameters.</summary>
    public AdamWOptions Options => options;

    /// <summary>The parameters being optimised.</summary>
    public IReadOnlyList<Tensor> Parameters => parameters;

    /// <summary>First-moment state per parameter (for checkpoints).</summary>
    public IReadOnlyList<Tensor> ExpAvg => expAvg;

    /// <summary>Second-moment state per parameter (for checkpoints).</summary>
    public IReadOnlyList<Tensor> ExpAvgSq => expAvgSq;

    /// <summary>
    /// fp32 master weights per parameter (on <see cref="AdamWOptions.StateDevice"/> when set), null for fp32/f64
    /// parameters that are updated in place.
    /// </summary>
    public IReadOnlyList<Tensor?> MasterWeights => masters;

    /// <summary>Applies one update from the parameters' current gradients.</summary>
    public void Step()
    {
        StepCount++;
        fixed (IntPtr* p = parameterHandles)
        fixed (IntPtr* m = masterHandles)
        fixed (IntPtr* a = expAvgHandles)
        fixed (IntPtr* s = expAvgSqHandles)
            NativeMethods.Check(NativeMethods.fct_adamw_step(p, m, a, s, parameters.Length, LearningRate,
                options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay, StepCount));
    }

    /// <summary>Releases the parameters' gradients.</summary>
    public void ZeroGrad() => Tensor.ZeroGrad(parameters);

    /// <summary>Frees the optimiser state (not the parameters).</summary>
    public void Dispose()
    {
        foreach (var t in expAvg) t.Dispose();
        foreach (var t in expAvgSq) t.Dispose();
        foreach (var t in masters) t?.Dispose();
    }
}
