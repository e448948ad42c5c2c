using System.Runtime.InteropServices;
using FuseChat.Fusion.Checkpoints;

namespace FuseChat.Fusion.Tests.Checkpoints;

public class NumericConversionTests
{
    private static ushort Bf16(float f) => NumericConversion.SingleToBFloat16(f);

    [Fact]
    public void RoundsToNearestEven()
    {
        // bf16 keeps 7 mantissa bits: around 1.0 the spacing is 2^-7.
        Assert.Equal(0x3F80, Bf16(1.0f));
        Assert.Equal(0x3F80, Bf16(1.0f + MathF.Pow(2, -8)));                       // tie, even stays down
        Assert.Equal(0x3F82, Bf16(1.0f + (3 * MathF.Pow(2, -8))));                 // tie, odd rounds up to even
        Assert.Equal(0x3F81, Bf16(1.0f + MathF.Pow(2, -8) + MathF.Pow(2, -20)));   // above the tie
        Assert.Equal(0x3F80, Bf16(1.0f + MathF.Pow(2, -8) - MathF.Pow(2, -20)));   // below the tie
        Assert.Equal(0xBF80, Bf16(-1.0f - MathF.Pow(2, -8)));
        Assert.Equal(0x7F80, Bf16(float.PositiveInfinity));
        Assert.Equal(0xFF80, Bf16(float.NegativeInfinity));
        Assert.Equal(0x7F80, Bf16(float.MaxValue));                                  // rounds up to infinity
        Assert.Equal(0x8000, Bf16(-0.0f));
        Assert.Equal(0x0000, Bf16(BitConverter.UInt32BitsToSingle(0x00008000)));                // subnormal tie, even
        Assert.Equal(0x0002, Bf16(BitConverter.UInt32BitsToSingle(0x00018000)));                // subnormal tie, odd up
        Assert.Equal(0x0001, Bf16(BitConverter.UInt32BitsToSingle(0x00008001)));                // subnormal above tie
        Assert.Equal(NumericConversion.BFloat16NaN, Bf16(float.NaN));
        Assert.Equal(NumericConversion.BFloat16NaN, Bf16(BitConverter.UInt32BitsToSingle(0xFFFFFFFF)));
    }

    [Fact]
    public void Bf16RoundTripIsExactForAllBf16Values()
    {
        var all = new ushort[65536];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = (ushort)i;
        }

        var floats = new float[all.Length];
        NumericConversion.BFloat16ToSingle(all, floats);
        var back = new ushort[all.Length];
        NumericConversion.SingleToBFloat16(floats, back);
        for (var i = 0; i < all.Length; i++)
        {
            Assert.Equal(BitConverter.UInt32BitsToSingle((uint)i << 16), floats[i]);
            var isNaN = float.IsNaN(floats[i]);
            Assert.Equal(isNaN ? NumericConversion.BFloat16NaN : (ushort)i, back[i]);
        }
    }

    [Fact]
    public void VectorPathMatchesScalarOnRandomBitsOfOddLength()
    {
        var random = new Random(42);
        var bits = new uint[1003];
        for (var i = 0; i < bits.Length; i++)
        {
            bits[i] = (uint)random.NextInt64(0, 1L << 32);
        }

        var floats = MemoryMarshal.Cast<uint, float>(bits.AsSpan()).ToArray();
        var vector = new ushort[floats.Length];
        NumericConversion.SingleToBFloat16(floats, vector);
        for (var i = 0; i < floats.Length; i++)
        {
            Assert.Equal(NumericConversion.SingleToBFloat16(floats[i]), vector[i]);
        }
    }

    [Fact]
    public void HalfConversionRoundTripsAndRounds()
    {
        float[] values = [0f, -0f, 1f, -2.5f, 65504f, 6.1035156e-05f, 5.9604645e-08f, float.PositiveInfinity, 1e6f, 1.0009766f];
        var halves = new Half[values.Length];
        NumericConversion.SingleToHalf(values, halves);
        var back = new float[values.Length];
        NumericConversion.HalfToSingle(halves, back);
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal((float)(Half)values[i], back[i]);
        }

        Assert.Equal(65504f, back[4]);
        Assert.Equal(float.PositiveInfinity, back[8]);
        Assert.Equal(1.0009766f, back[9]);
    }

    [Theory]
    [InlineData(SafetensorsDType.F32)]
    [InlineData(SafetensorsDType.F16)]
    [InlineData(SafetensorsDType.BF16)]
    [InlineData(SafetensorsDType.F64)]
    public void ByteConversionsRoundTripRepresentableValues(SafetensorsDType dtype)
    {
        float[] values = [0f, 1f, -2f, 0.5f, 3.25f, -1024f, 0.125f, 7f, 96f];
        var bytes = new byte[values.Length * dtype.ElementSize()];
        NumericConversion.FromSingle(values, dtype, bytes);
        var back = new float[values.Length];
        NumericConversion.ToSingle(bytes, dtype, back);
        Assert.Equal(values, back);
    }

    [Fact]
    public void NonFloatDTypeAndShortDestinationAreRejected()
    {
        Assert.Throws<NotSupportedException>(() => NumericConversion.ToSingle(new byte[4], SafetensorsDType.I32, new float[1]));
        Assert.Throws<ArgumentException>(() => NumericConversion.BFloat16ToSingle(new ushort[4], new float[3]));
        Assert.Throws<ArgumentException>(() => NumericConversion.ToSingle(new byte[3], SafetensorsDType.BF16, new float[2]));
    }
}
