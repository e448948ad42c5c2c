using System.Collections.Immutable;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Torch;

namespace FuseChat.Fusion.Models;

/// <summary>
/// Loads and saves <see cref="LlamaModel"/>s as Hugging Face model folders (config.json and
/// safetensors, single or sharded), checking every tensor's presence and shape before reading any.
/// </summary>
public static class PretrainedModel
{
    /// <summary>Largest shard written by <see cref="Save"/> unless told otherwise (as transformers: 5 GB).</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    // Files copied into much-larger tensors in pieces, so that no single span exceeds int.MaxValue.
    private const int ChunkBytes = 64 << 20;

    /// <summary>
    /// Reads config.json and the weights of <paramref name="folder"/> into a new model of
    /// <paramref name="dtype"/> (default: float32) on <paramref name="device"/>.
    /// </summary>
    public static (LlamaModel Model, ModelConfig Config) Load(string folder, DType dtype = DType.Float32, Device? device = null)
    {
        var config = ModelConfig.Load(folder);
        using var reader = CheckpointReader.Open(folder);
        ModelTensorLayout.For(config).Validate(reader);
        var model = new LlamaModel(DecoderConfig.From(config), dtype, device);
        try
        {
            using var noGrad = NoGradScope.Enter();
            foreach (var (name, parameter) in model.NamedParameters())
            {
                using var scope = DisposeScope.Open();
                var info = reader.GetTensor(name);
                var staging = Tensor.Empty(info.Shape.AsSpan(), ToDType(info.DType, name, reader.ShardOf(name)));
                for (long offset = 0; offset < info.ByteLength; offset += ChunkBytes)
                {
                    var count = (int)Math.Min(ChunkBytes, info.ByteLength - offset);
                    var buffer = new byte[count];
                    reader.CopyTo(name, offset, buffer);
                    staging.WriteBytes(buffer, offset);
                }
                parameter.CopyFrom(staging);
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return (model, config);
    }

    /// <summary>
    /// Writes config.json and the model's weights (as <paramref name="dtype"/>) to <paramref name="folder"/>,
    /// sharded above <paramref name="maxShardBytes"/>. Files appear under their final names only when complete.
    /// </summary>
    public static void Save(LlamaModel model, ModelConfig config, string folder, DType dtype = DType.Float32,
        long maxShardBytes = DefaultMaxShardBytes)
    {
        var parameters = model.NamedParameters().ToList();
        var declarations = parameters
            .Select(p => new TensorDeclaration(p.Name, ToSafetensors(dtype), [.. p.Tensor.Shape]))
            .ToList();
        Directory.CreateDirectory(folder);
        using (var writer = new ShardedCheckpointWriter(folder, declarations, maxShardBytes))
        {
            using var noGrad = NoGradScope.Enter();
            foreach (var (name, tensor) in parameters)
            {
                using var scope = DisposeScope.Open();
                var host = tensor.To(Device.Cpu).To(dtype).Contiguous();
                var total = host.NumberOfElements * host.ElementSize;
                for (long offset = 0; offset < total; offset += ChunkBytes)
                {
                    var buffer = new byte[(int)Math.Min(ChunkBytes, total - offset)];
                    host.ReadBytes(buffer, offset);
                    writer.WriteTensorChunk(name, offset, buffer);
                }
            }
            writer.Complete();
        }
        (config with { TorchDtype = TorchDtypeName(dtype) }).Save(Path.Combine(folder, ModelConfig.FileName));
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
    public static SafetensorsDType ToSafetensors(DType dtype) => dtype switch
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

    private static string TorchDtypeName(DType dtype) => dtype switch
    {
        DType.BFloat16 => "bfloat16",
        DType.Float16 => "float16",
        DType.Float64 => "float64",
        _ => "float32",
    };
}
