using System.Diagnostics.CodeAnalysis;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// Element sizes and header names of <see cref="SafetensorsDType"/> values.
/// </summary>
public static class SafetensorsDTypes
{
    /// <summary>Every supported dtype, in the order of <see cref="SafetensorsDType"/>.</summary>
    public static IReadOnlyList<SafetensorsDType> All { get; } = Enum.GetValues<SafetensorsDType>();

    /// <summary>Size of one element in bytes.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    public static int ElementSize(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.Bool or SafetensorsDType.U8 or SafetensorsDType.I8
            or SafetensorsDType.F8E5M2 or SafetensorsDType.F8E4M3 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.I64 or SafetensorsDType.U64 or SafetensorsDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };

    /// <summary>The name the safetensors header uses for the dtype, e.g. "BF16".</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>The header string.</returns>
    public static string ToHeaderName(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.Bool => "BOOL",
        SafetensorsDType.F8E5M2 => "F8_E5M2",
        SafetensorsDType.F8E4M3 => "F8_E4M3",
        _ => dtype.ToString(),
    };

    /// <summary>Parses a header dtype name such as "F32" or "F8_E4M3".</summary>
    /// <param name="name">The name as written in the header (case-sensitive, as the format is).</param>
    /// <param name="dtype">The parsed dtype.</param>
    /// <returns>Whether the name is a supported dtype.</returns>
    public static bool TryParseHeaderName(string name, [NotNullWhen(true)] out SafetensorsDType? dtype)
    {
        ArgumentNullException.ThrowIfNull(name);
        dtype = name switch
        {
            "BOOL" => SafetensorsDType.Bool,
            "U8" => SafetensorsDType.U8,
            "I8" => SafetensorsDType.I8,
            "F8_E5M2" => SafetensorsDType.F8E5M2,
            "F8_E4M3" => SafetensorsDType.F8E4M3,
            "I16" => SafetensorsDType.I16,
            "U16" => SafetensorsDType.U16,
            "F16" => SafetensorsDType.F16,
            "BF16" => SafetensorsDType.BF16,
            "I32" => SafetensorsDType.I32,
            "U32" => SafetensorsDType.U32,
            "F32" => SafetensorsDType.F32,
            "I64" => SafetensorsDType.I64,
            "U64" => SafetensorsDType.U64,
            "F64" => SafetensorsDType.F64,
            _ => null,
        };
        return dtype is not null;
    }

    /// <summary>
    /// Number of bytes a tensor of the given dtype and shape occupies, or -1 when that overflows.
    /// </summary>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">Dimensions; an empty shape is a scalar of one element.</param>
    /// <returns>The byte length, or -1 on overflow or a negative dimension.</returns>
    public static long ByteLength(SafetensorsDType dtype, ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                return -1;
            }

            try
            {
                count = checked(count * d);
            }
            catch (OverflowException)
            {
                return -1;
            }
        }

        try
        {
            return checked(count * dtype.ElementSize());
        }
        catch (OverflowException)
        {
            return -1;
        }
    }
}
