namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// Element types of the safetensors format, named as in the file header.
/// </summary>
/// <remarks>
/// Sub-byte types (F4, F6_*) are not listed: their byte length is not a whole number of
/// elements per byte, and no checkpoint FuseChat fuses uses them.
/// </remarks>
public enum SafetensorsDType
{
    /// <summary>Boolean, one byte per element ("BOOL").</summary>
    Bool,

    /// <summary>Unsigned 8-bit integer ("U8").</summary>
    U8,

    /// <summary>Signed 8-bit integer ("I8").</summary>
    I8,

    /// <summary>8-bit float with 5 exponent and 2 mantissa bits ("F8_E5M2").</summary>
    F8E5M2,

    /// <summary>8-bit float with 4 exponent and 3 mantissa bits ("F8_E4M3").</summary>
    F8E4M3,

    /// <summary>Signed 16-bit integer ("I16").</summary>
    I16,

    /// <summary>Unsigned 16-bit integer ("U16").</summary>
    U16,

    /// <summary>IEEE 754 half precision float ("F16").</summary>
    F16,

    /// <summary>Brain float 16: the upper half of an IEEE 754 single ("BF16").</summary>
    BF16,

    /// <summary>Signed 32-bit integer ("I32").</summary>
    I32,

    /// <summary>Unsigned 32-bit integer ("U32").</summary>
    U32,

    /// <summary>IEEE 754 single precision float ("F32").</summary>
    F32,

    /// <summary>Signed 64-bit integer ("I64").</summary>
    I64,

    /// <summary>Unsigned 64-bit integer ("U64").</summary>
    U64,

    /// <summary>IEEE 754 double precision float ("F64").</summary>
    F64,
}
