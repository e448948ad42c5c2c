using System.Collections.Immutable;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// A tensor a writer will store: declared up front so the header can be written before the data.
/// </summary>
/// <param name="Name">Tensor name, unique within the file.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions, outermost first; empty for a scalar.</param>
public sealed record TensorDeclaration(string Name, SafetensorsDType DType, ImmutableArray<long> Shape)
{
    /// <summary>Bytes the tensor occupies.</summary>
    /// <exception cref="ArgumentException">A dimension is negative or the size overflows.</exception>
    public long ByteLength
    {
        get
        {
            var length = SafetensorsDTypes.ByteLength(DType, Shape.AsSpan());
            return length >= 0
                ? length
                : throw new ArgumentException($"Tensor '{Name}' has an invalid shape {ShapeText.Format(Shape.AsSpan())}.");
        }
    }

    /// <summary>Declares a tensor with the same name, dtype and shape as one read from a file.</summary>
    /// <param name="info">The header entry to copy.</param>
    /// <returns>The declaration.</returns>
    public static TensorDeclaration From(TensorInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new TensorDeclaration(info.Name, info.DType, info.Shape);
    }
}
