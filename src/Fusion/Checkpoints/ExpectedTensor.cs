using System.Collections.Immutable;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>A tensor a checkpoint of some architecture must contain.</summary>
/// <param name="Name">Hugging Face tensor name, e.g. "model.layers.3.mlp.up_proj.weight".</param>
/// <param name="Shape">Its shape, outermost first.</param>
public sealed record ExpectedTensor(string Name, ImmutableArray<long> Shape)
{
    /// <summary>Number of elements (product of the shape; 1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var dimension in Shape) count *= dimension;
            return count;
        }
    }

    /// <summary>The shape written as "[a, b]".</summary>
    /// <returns>The formatted shape.</returns>
    public string FormatShape() => ShapeText.Format(Shape.AsSpan());
}
