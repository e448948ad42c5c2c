using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// Span conversions between the 16-bit float formats of checkpoints and <see cref="float"/>,
/// vectorised where the hardware allows. BF16 values are carried as their raw <see cref="ushort"/>
/// bits; conversion down rounds to nearest, ties to even, exactly as PyTorch does.
/// </summary>
/// <remarks>Byte overloads read and write little-endian data, the safetensors byte order.</remarks>
public static class NumericConversion
{
    /// <summary>
    /// The bits written for any NaN converted to bfloat16: a positive quiet NaN, as PyTorch's
    /// scalar conversion writes (its vectorised CPU path writes 0xFFFF, also a NaN).
    /// </summary>
    public const ushort BFloat16NaN = 0x7FC0;

    /// <summary>Widens one bfloat16 (raw bits) to a float; exact.</summary>
    /// <param name="bits">The bfloat16 bits.</param>
    /// <returns>The float value.</returns>
    public static float BFloat16ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Rounds a float to bfloat16 (nearest, ties to even); NaN becomes <see cref="BFloat16NaN"/>.</summary>
    /// <param name="value">The float.</param>
    /// <returns>The bfloat16 bits.</returns>
    public static ushort SingleToBFloat16(float value)
    {
        if (float.IsNaN(value))
        {
            return BFloat16NaN;
        }

        var bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    /// <summary>Widens bfloat16 values (raw bits) to floats; exact.</summary>
    /// <param name="source">The bfloat16 bits.</param>
    /// <param name="destination">At least as long as <paramref name="source"/>.</param>
    public static void BFloat16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        var output = MemoryMarshal.Cast<float, uint>(destination);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var step = Vector<ushort>.Count;
            var half = Vector<uint>.Count;
            for (; i <= source.Length - step; i += step)
            {
                Vector.Widen(new Vector<ushort>(source[i..]), out var low, out var high);
                Vector.ShiftLeft(low, 16).CopyTo(output[i..]);
                Vector.ShiftLeft(high, 16).CopyTo(output[(i + half)..]);
            }
        }

        for (; i < source.Length; i++)
        {
            output[i] = (uint)source[i] << 16;
        }
    }

    /// <summary>Rounds floats to bfloat16 (nearest, ties to even); NaN becomes <see cref="BFloat16NaN"/>.</summary>
    /// <param name="source">The floats.</param>
    /// <param name="destination">At least as long as <paramref name="source"/>.</param>
    public static void SingleToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        CheckLengths(source.Length, destination.Length);
        var input = MemoryMarshal.Cast<float, uint>(source);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var step = Vector<ushort>.Count;
            var half = Vector<uint>.Count;
            for (; i <= source.Length - step; i += step)
            {
                var low = RoundToBFloat16(new Vector<uint>(input[i..]));
                var high = RoundToBFloat16(new Vector<uint>(input[(i + half)..]));
                Vector.Narrow(low, high).CopyTo(destination[i..]);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = SingleToBFloat16(source[i]);
        }
    }

    /// <summary>Widens IEEE half values to floats; exact.</summary>
    /// <param name="source">The halves.</param>
    /// <param name="destination">At least as long as <paramref name="source"/>.</param>
    public static void HalfToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        TensorPrimitives.ConvertToSingle(source, destination[..source.Length]);
    }

    /// <summary>Rounds floats to IEEE half (nearest, ties to even; overflow gives infinity).</summary>
    /// <param name="source">The floats.</param>
    /// <param name="destination">At least as long as <paramref name="source"/>.</param>
    public static void SingleToHalf(ReadOnlySpan<float> source, Span<Half> destination)
    {
        CheckLengths(source.Length, destination.Length);
        TensorPrimitives.ConvertToHalf(source, destination[..source.Length]);
    }

    /// <summary>
    /// Converts raw little-endian tensor bytes of a floating dtype (F32, F16, BF16, F64) to floats.
    /// </summary>
    /// <param name="source">The tensor bytes; a whole number of elements.</param>
    /// <param name="dtype">Their dtype.</param>
    /// <param name="destination">At least one float per element.</param>
    public static void ToSingle(ReadOnlySpan<byte> source, SafetensorsDType dtype, Span<float> destination)
    {
        var count = ElementCount(source.Length, dtype);
        CheckLengths(count, destination.Length);
        switch (dtype)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case SafetensorsDType.BF16:
                BFloat16ToSingle(MemoryMarshal.Cast<byte, ushort>(source), destination);
                break;
            case SafetensorsDType.F16:
                HalfToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
                break;
            case SafetensorsDType.F64:
                var doubles = MemoryMarshal.Cast<byte, double>(source);
                for (var i = 0; i < doubles.Length; i++)
                {
                    destination[i] = (float)doubles[i];
                }

                break;
            default:
                throw new NotSupportedException($"Cannot convert {dtype.ToHeaderName()} to float: only F32, F16, BF16 and F64 are floating dtypes handled here.");
        }
    }

    /// <summary>Converts floats to raw little-endian tensor bytes of a floating dtype (F32, F16, BF16, F64).</summary>
    /// <param name="source">The floats.</param>
    /// <param name="dtype">Target dtype.</param>
    /// <param name="destination">At least source.Length times the element size bytes.</param>
    public static void FromSingle(ReadOnlySpan<float> source, SafetensorsDType dtype, Span<byte> destination)
    {
        var count = ElementCount(destination.Length, dtype, allowRemainder: true);
        CheckLengths(source.Length, count);
        switch (dtype)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.AsBytes(source).CopyTo(destination);
                break;
            case SafetensorsDType.BF16:
                SingleToBFloat16(source, MemoryMarshal.Cast<byte, ushort>(destination));
                break;
            case SafetensorsDType.F16:
                SingleToHalf(source, MemoryMarshal.Cast<byte, Half>(destination));
                break;
            case SafetensorsDType.F64:
                var doubles = MemoryMarshal.Cast<byte, double>(destination);
                for (var i = 0; i < source.Length; i++)
                {
                    doubles[i] = source[i];
                }

                break;
            default:
                throw new NotSupportedException($"Cannot convert float to {dtype.ToHeaderName()}: only F32, F16, BF16 and F64 are floating dtypes handled here.");
        }
    }

    private static Vector<uint> RoundToBFloat16(Vector<uint> bits)
    {
        var rounded = Vector.ShiftRightLogical(bits + new Vector<uint>(0x7FFFu) + (Vector.ShiftRightLogical(bits, 16) & Vector<uint>.One), 16);
        var value = Vector.AsVectorSingle(bits);
        var isNaN = Vector.AsVectorUInt32(~Vector.Equals(value, value));
        return Vector.ConditionalSelect(isNaN, new Vector<uint>(BFloat16NaN), rounded);
    }

    private static int ElementCount(int byteLength, SafetensorsDType dtype, bool allowRemainder = false)
    {
        var size = dtype.ElementSize();
        if (!allowRemainder && byteLength % size != 0)
        {
            throw new ArgumentException($"{byteLength} bytes is not a whole number of {dtype.ToHeaderName()} elements.");
        }

        return byteLength / size;
    }

    private static void CheckLengths(int source, int destination)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Checkpoint data is little-endian; big-endian hosts are not supported.");
        }

        if (destination < source)
        {
            throw new ArgumentException($"Destination holds {destination} elements but the source has {source}.", nameof(destination));
        }
    }
}
