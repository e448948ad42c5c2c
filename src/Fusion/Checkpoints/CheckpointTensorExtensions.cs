using FuseChat.Torch;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>Moves whole tensors between checkpoint files and libtorch, in bounded chunks.</summary>
public static class CheckpointTensorExtensions
{
    // Large tensors are copied in pieces so that no span exceeds int.MaxValue and no second full copy exists.
    private const int ChunkBytes = 64 << 20;

    /// <summary>Reads tensor <paramref name="name"/> into a new CPU tensor of its stored dtype.</summary>
    public static Tensor ReadTensor(this CheckpointReader reader, string name)
    {
        var info = reader.GetTensor(name);
        var tensor = Tensor.Empty(info.Shape.AsSpan(), ToDType(info.DType, name, reader.ShardOf(name)));
        try
        {
            // Straight into the tensor's memory: a staging buffer would be one more copy, and 64 MiB of
            // garbage per large tensor.
            for (long offset = 0; offset < info.ByteLength; offset += ChunkBytes)
                reader.CopyTo(name, offset, tensor.AsBytes(offset, (int)Math.Min(ChunkBytes, info.ByteLength - offset)));
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="tensor"/> (converted to <paramref name="dtype"/> on the CPU) as tensor <paramref name="name"/>.</summary>
    public static void WriteTensor(this ShardedCheckpointWriter writer, string name, Tensor tensor, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(writer);
        WriteChunks(tensor, dtype, (offset, bytes) => writer.WriteTensorChunk(name, offset, bytes));
    }

    /// <summary>Writes <paramref name="tensor"/> (converted to <paramref name="dtype"/> on the CPU) as tensor <paramref name="name"/> of one file.</summary>
    public static void WriteTensor(this SafetensorsWriter writer, string name, Tensor tensor, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(writer);
        WriteChunks(tensor, dtype, (offset, bytes) => writer.WriteTensorChunk(name, offset, bytes));
    }

    // Where a tensor's bytes go, piece by piece: a writer's WriteTensorChunk.
    private delegate void ChunkSink(long offsetInTensor, ReadOnlySpan<byte> bytes);

    // The tensor on the CPU in the wanted dtype, handed over in ChunkBytes pieces.
    private static void WriteChunks(Tensor tensor, DType dtype, ChunkSink sink)
    {
        using var scope = DisposeScope.Open();
        var host = tensor.To(Device.Cpu).To(dtype).Contiguous();
        var total = host.NumberOfElements * host.ElementSize;
        for (long offset = 0; offset < total; offset += ChunkBytes)
            sink(offset, host.AsBytes(offset, (int)Math.Min(ChunkBytes, total - offset)));
    }

    /// <summary>The tensor dtype that holds a safetensors dtype.</summary>
    public static DType ToDType(SafetensorsDType dtype, string tensor = "", string file = "") => dtype switch
    {
        SafetensorsDType.F32 => DType.Float32,
        SafetensorsDType.F16 => DType.Float16,
        SafetensorsDType.BF16 => DType.BFloat16,
        SafetensorsDType.F64 => DType.Float64,
        SafetensorsDType.I32 => DType.Int32,
        SafetensorsDType.I64 => DType.Int64,
        SafetensorsDType.I16 => DType.Int16,
        SafetensorsDType.I8 => DType.Int8,
        SafetensorsDType.U8 => DType.UInt8,
        SafetensorsDType.Bool => DType.Bool,
        _ => throw new NotSupportedException($"{file}: tensor '{tensor}' has dtype {dtype.ToHeaderName()}, which cannot be loaded"),
    };

    /// <summary>The safetensors dtype that stores a tensor dtype.</summary>
    public static SafetensorsDType ToSafetensors(this DType dtype) => dtype switch
    {
        DType.Float32 => SafetensorsDType.F32,
        DType.Float16 => SafetensorsDType.F16,
        DType.BFloat16 => SafetensorsDType.BF16,
        DType.Float64 => SafetensorsDType.F64,
        DType.Int32 => SafetensorsDType.I32,
        DType.Int64 => SafetensorsDType.I64,
        DType.Int16 => SafetensorsDType.I16,
        DType.Int8 => SafetensorsDType.I8,
        DType.UInt8 => SafetensorsDType.U8,
        DType.Bool => SafetensorsDType.Bool,
        _ => throw new NotSupportedException($"dtype {dtype.ShortName()} has no safetensors equivalent"),
    };

    /// <summary>The torch_dtype name config.json uses for a dtype.</summary>
    public static string TorchDtypeName(this DType dtype) => dtype switch
    {
        DType.BFloat16 => "bfloat16",
        DType.Float16 => "float16",
        DType.Float64 => "float64",
        _ => "float32",
    };
}
