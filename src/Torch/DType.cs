namespace FuseChat.Torch;

/// <summary>Element types; the values are libtorch's c10::ScalarType codes.</summary>
public enum DType
{
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 0,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 1,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 2,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 3,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 4,
    /// <summary>IEEE half precision.</summary>
    Float16 = 5,
    /// <summary>IEEE single precision.</summary>
    Float32 = 6,
    /// <summary>IEEE double precision.</summary>
    Float64 = 7,
    /// <summary>Boolean.</summary>
    Bool = 11,
    /// <summary>Brain floating point (8-bit exponent, 7-bit mantissa).</summary>
    BFloat16 = 15,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.UInt8 or DType.Int8 or DType.Bool => 1,
        DType.Int16 or DType.Float16 or DType.BFloat16 => 2,
        DType.Int32 or DType.Float32 => 4,
        DType.Int64 or DType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>True for the floating-point types.</summary>
    public static bool IsFloatingPoint(this DType dtype) =>
        dtype is DType.Float16 or DType.BFloat16 or DType.Float32 or DType.Float64;

    /// <summary>The short name used in configuration files: f32, bf16, i64, ...</summary>
    public static string ShortName(this DType dtype) => dtype switch
    {
        DType.UInt8 => "u8",
        DType.Int8 => "i8",
        DType.Int16 => "i16",
        DType.Int32 => "i32",
        DType.Int64 => "i64",
        DType.Float16 => "f16",
        DType.Float32 => "f32",
        DType.Float64 => "f64",
        DType.Bool => "bool",
        DType.BFloat16 => "bf16",
        _ => dtype.ToString(),
    };

    /// <summary>Parses f32/float32/float, bf16/bfloat16, f16/float16/half, f64, i32, i64, bool.</summary>
    public static DType Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "f32" or "float32" or "float" => DType.Float32,
        "f16" or "float16" or "half" or "fp16" => DType.Float16,
        "bf16" or "bfloat16" => DType.BFloat16,
        "f64" or "float64" or "double" => DType.Float64,
        "i32" or "int32" or "int" => DType.Int32,
        "i64" or "int64" or "long" => DType.Int64,
        "bool" => DType.Bool,
        "u8" or "uint8" => DType.UInt8,
        _ => throw new ArgumentException($"unknown dtype '{name}' (expected f32, bf16, f16, f64, i32, i64, bool, u8)", nameof(name)),
    };
}
