using System.Text.Json;
using System.Text.Json.Serialization;

namespace FuseChat.Fusion.Representations;

/// <summary>
/// manifest.json of a representation folder: what was computed (model, tokenizer, template, K, data)
/// and the shards that are complete. It is replaced atomically after every shard, so it never lists a
/// shard that is not fully on disk.
/// </summary>
public sealed record RepresentationManifest
{
    /// <summary>The manifest's file name inside a representation folder.</summary>
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Layout version of the shards.</summary>
    public string Format { get; init; } = RepresentationArrow.FormatVersion;

    /// <summary>Full path of the model folder.</summary>
    public required string Model { get; init; }

    /// <summary>Full path of the tokenizer.json used.</summary>
    public required string Tokenizer { get; init; }

    /// <summary>Tokens of the tokenizer (added tokens included).</summary>
    public required int TokenizerVocab { get; init; }

    /// <summary>The pivot's chat template that rendered the text.</summary>
    public required string Template { get; init; }

    /// <summary>Logits kept per trained position.</summary>
    public required int TopK { get; init; }

    /// <summary>Conversations of the data file per shard.</summary>
    public required int ShardSize { get; init; }

    /// <summary>Longest sequence of the model (longer conversations were truncated).</summary>
    public required int MaxPositions { get; init; }

    /// <summary>Weight dtype the model ran in.</summary>
    public required string Dtype { get; init; }

    /// <summary>Buffer compression of the shards.</summary>
    public required RepresentationCompression Compression { get; init; }

    /// <summary>Full path of the JSONL data file.</summary>
    public required string Data { get; init; }

    /// <summary>Size of the data file in bytes.</summary>
    public required long DataBytes { get; init; }

    /// <summary>SHA-256 of the data file: a rerun on changed data must not reuse shards.</summary>
    public required string DataSha256 { get; init; }

    /// <summary>Token budget of a forward pass (informational; results do not depend on it).</summary>
    public int MaxBatchTokens { get; init; }

    /// <summary>Completed shards, by index.</summary>
    public IReadOnlyList<RepresentationShardInfo> Shards { get; init; } = [];

    /// <summary>True once every conversation of the data file is in a completed shard.</summary>
    public bool Complete { get; init; }

    /// <summary>Conversations in the data file (known once complete).</summary>
    public long Conversations { get; init; }

    /// <summary>Conversations dropped for having no trained position, over the completed shards.</summary>
    public long Dropped => Shards.Sum(s => (long)s.Dropped);

    /// <summary>Conversations truncated, over the completed shards.</summary>
    public long Truncated => Shards.Sum(s => (long)s.Truncated);

    /// <summary>Tokens stored, over the completed shards.</summary>
    public long Tokens => Shards.Sum(s => s.Tokens);

    /// <summary>Bytes of the completed shards' files.</summary>
    public long Bytes => Shards.Sum(s => s.Bytes);

    /// <summary>
    /// Null when shards written under <paramref name="other"/>'s settings can be reused for this one;
    /// otherwise the first setting that differs.
    /// </summary>
    public string? Incompatibility(RepresentationManifest other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (Format != other.Format) return $"format {other.Format} vs {Format}";
        if (Model != other.Model) return $"model {other.Model} vs {Model}";
        if (Tokenizer != other.Tokenizer || TokenizerVocab != other.TokenizerVocab) return $"tokenizer {other.Tokenizer} vs {Tokenizer}";
        if (!string.Equals(Template, other.Template, StringComparison.OrdinalIgnoreCase)) return $"template {other.Template} vs {Template}";
        if (TopK != other.TopK) return $"top-k {other.TopK} vs {TopK}";
        if (ShardSize != other.ShardSize) return $"shard size {other.ShardSize} vs {ShardSize}";
        if (MaxPositions != other.MaxPositions) return $"max positions {other.MaxPositions} vs {MaxPositions}";
        if (Dtype != other.Dtype) return $"dtype {other.Dtype} vs {Dtype}";
        if (Compression != other.Compression) return $"compression {other.Compression} vs {Compression}";
        if (DataBytes != other.DataBytes || DataSha256 != other.DataSha256) return $"data file contents ({other.Data} vs {Data})";
        return null;
    }

    /// <summary>Reads a manifest file.</summary>
    /// <exception cref="InvalidDataException">The file is not a manifest.</exception>
    public static RepresentationManifest Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<RepresentationManifest>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path} is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a representation manifest: {e.Message}", e);
        }
    }

    /// <summary>Writes the manifest to <paramref name="path"/> atomically (temporary file, flush, rename).</summary>
    public void Save(string path)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, this, Json);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
