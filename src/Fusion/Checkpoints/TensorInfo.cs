using System.Collections.Immutable;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// One tensor's entry in a safetensors header.
/// </summary>
/// <param name="Name">The tensor name, e.g. "model.layers.0.self_attn.q_proj.weight".</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">Dimensions, outermost first; empty for a scalar.</param>
/// <param name="DataOffset">Start of the tensor's bytes, relative to the start of the data section
/// (the first byte after the header), as in the header's data_offsets.</param>
/// <param name="ByteLength">Number of bytes: element count times element size.</param>
public sealed record TensorInfo(
    string Name,
    SafetensorsDType DType,
    ImmutableArray<long> Shape,
    long DataOffset,
    long ByteLength)
{
    /// <summary>Number of elements (product of the shape; 1 for a scalar).</summary>
    public long ElementCount => ByteLength / DType.ElementSize();

    /// <summary>The shape written as "[a, b]" for messages.</summary>
    /// <returns>The formatted shape.</returns>
    public string FormatShape() => ShapeText.Format(Shape.AsSpan());
}
