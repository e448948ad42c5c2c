using FuseChat.Torch;

namespace FuseChat.Fusion.Representations;

/// <summary>One model's representation pass over one data file.</summary>
public sealed record RepresentationJob
{
    /// <summary>Hugging Face model folder (config.json, safetensors, tokenizer.json).</summary>
    public required string ModelFolder { get; init; }

    /// <summary>JSONL chat data (ShareGPT or OpenAI messages).</summary>
    public required string DataPath { get; init; }

    /// <summary>The PIVOT's chat template: every model reads the text it renders.</summary>
    public required string Template { get; init; }

    /// <summary>Folder for the shards and the manifest.</summary>
    public required string OutputFolder { get; init; }

    /// <summary>K, batching, sharding and compression.</summary>
    public RepresentationOptions Options { get; init; } = new();

    /// <summary>Where the model runs.</summary>
    public Device Device { get; init; } = Device.Cpu;

    /// <summary>Weight dtype (the paper: bf16).</summary>
    public DType DType { get; init; } = DType.Float32;
}
