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
                using var staging = reader.ReadTensor(name);
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
            .Select(p => new TensorDeclaration(p.Name, dtype.ToSafetensors(), [.. p.Tensor.Shape]))
            .ToList();
        Directory.CreateDirectory(folder);
        using (var writer = new ShardedCheckpointWriter(folder, declarations, maxShardBytes))
        {
            using var noGrad = NoGradScope.Enter();
            foreach (var (name, tensor) in parameters) writer.WriteTensor(name, tensor, dtype);
            writer.Complete();
        }
        (config with { TorchDtype = dtype.TorchDtypeName() }).Save(Path.Combine(folder, ModelConfig.FileName));
    }
}
