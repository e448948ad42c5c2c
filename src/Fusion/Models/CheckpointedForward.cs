using FuseChat.Torch;

namespace FuseChat.Fusion.Models;

/// <summary>
/// One training forward pass of a <see cref="LlamaModel"/> with activation checkpointing (METHOD.md: the paper
/// trains with gradient checkpointing). The layers run without recording autograd history; only each layer's
/// input is kept. <see cref="Backward"/> back-propagates the loss through the output head, then recomputes the
/// layers one at a time, last first, each with history, and back-propagates through it alone. Parameter
/// gradients are those of a plain forward and backward: the same operations on the same values, one layer's
/// intermediates alive at a time.
/// </summary>
/// <remarks>
/// The pass owns the kept layer inputs and frees them in <see cref="Backward"/> (each once its layer is done) or
/// in <see cref="Dispose"/>. The token ids must stay alive until <see cref="Backward"/> has run.
/// </remarks>
public sealed class CheckpointedForward : IDisposable
{
    private readonly LlamaModel model;
    private readonly Tensor ids;
    private readonly Tensor?[] layerInputs;
    private readonly List<Tensor> owned = [];
    private readonly LayerPositions positions;
    private readonly Tensor output;
    private readonly Tensor? logits;
    private bool spent;

    internal CheckpointedForward(LlamaModel model, Tensor ids, bool withLogits = true)
    {
        this.model = model;
        this.ids = ids;
        layerInputs = new Tensor?[model.LayerCount];
        using var scope = DisposeScope.Open();
        var length = ids.Size(1);
        Tensor h;
        using (NoGradScope.Enter())
        {
            h = model.Embed(ids);
            positions = model.Positions(0, length, h);
            Keep(positions.Cos);
            Keep(positions.Sin);
            if (positions.Mask is { } mask) Keep(mask);
            // Gemma3's windowed layers rotate by tables of their own, which the recomputation needs as much.
            if (positions.LocalCos is { } localCos) Keep(localCos);
            if (positions.LocalSin is { } localSin) Keep(localSin);
            for (var i = 0; i < layerInputs.Length; i++)
            {
                layerInputs[i] = Keep(h);
                // Each layer's intermediates go when it returns: held to the end of this pass they would add up to
                // almost a plain forward pass's activations, the memory checkpointing exists to save.
                using var layerScope = DisposeScope.Open();
                h = model.Layer(i, h, positions).MoveToOuterScope();
            }
        }
        // The last layer's output made without history is a leaf: the head's backward stops there and leaves
        // the gradient the layers' recomputation starts from.
        output = Keep(h).RequiresGradient();
        if (withLogits) logits = model.Head(output).MoveToOuterScope();
    }

    /// <summary>Next-token logits [batch, length, vocab]; autograd history reaches back to the last layer's output only.</summary>
    public Tensor Logits => logits ?? throw new InvalidOperationException("this pass was made without logits: apply the head to Hidden");

    /// <summary>
    /// The last decoder layer's output [batch, length, hidden], a leaf that requires gradient. A caller that applies
    /// the head itself (in chunks of positions) back-propagates into it, then calls <see cref="BackwardFromHidden"/>.
    /// </summary>
    internal Tensor Hidden => output;

    /// <summary>
    /// Back-propagates <paramref name="loss"/> (a scalar computed from <see cref="Logits"/>) into every parameter's
    /// gradient, accumulating like <see cref="Tensor.Backward"/>. Once per pass.
    /// </summary>
    public void Backward(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        BackwardLayers(() => loss.Backward());
    }

    /// <summary>
    /// Back-propagates through the layers the gradient that <see cref="Hidden"/> has accumulated (from the caller's
    /// own head and loss). Once per pass.
    /// </summary>
    internal void BackwardFromHidden() => BackwardLayers(null);

    private void BackwardLayers(Action? head)
    {
        if (spent) throw new InvalidOperationException("this checkpointed pass has already been back-propagated");
        spent = true;
        Tensor? gradient = null;
        try
        {
            using (DisposeScope.Open())
            {
                head?.Invoke();
                gradient = (output.Grad ?? throw new InvalidOperationException("the loss does not depend on the logits of this pass"))
                    .DetachFromScope();
            }
            for (var i = layerInputs.Length - 1; i >= 0; i--)
            {
                using var scope = DisposeScope.Open();
                var input = layerInputs[i]!.Detach().RequiresGradient();
                model.Layer(i, input, positions).Backward(gradient);
                var next = (input.Grad ?? throw new InvalidOperationException($"decoder layer {i} passed no gradient to its input")).DetachFromScope();
                gradient.Dispose();
                gradient = next;
                layerInputs[i]!.Dispose();
                layerInputs[i] = null;
            }
            using (DisposeScope.Open())
            {
                var embedded = model.Embed(ids);
                if (embedded.RequiresGrad) embedded.Backward(gradient);
            }
        }
        finally
        {
            gradient?.Dispose();
            Dispose();
        }
    }

    /// <summary>Frees the kept layer inputs and tables (the logits belong to the caller's scope).</summary>
    public void Dispose()
    {
        foreach (var tensor in owned) tensor.Dispose();
        owned.Clear();
    }

    private Tensor Keep(Tensor tensor)
    {
        tensor.DetachFromScope();
        owned.Add(tensor);
        return tensor;
    }
}
