using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// Reads the weights of a Hugging Face model folder: either one "model.safetensors" or shards
/// listed by "model.safetensors.index.json" (its weight_map maps tensor names to shard files).
/// Shards are opened (memory-mapped) on first use and closed by <see cref="Dispose"/>.
/// <para>A multimodal checkpoint whose language model is a supported decoder (Gemma 3 4B and up) is read as that
/// language model: its tensors appear under a text model's names ("language_model.model.X" or
/// "model.language_model.X" as "model.X", "language_model.lm_head.weight" as "lm_head.weight") and the vision tower's
/// and projector's are left out, so that loading, validation and merging see a text checkpoint.</para>
/// </summary>
/// <remarks>Thread-safe for reading; spans handed out are valid until disposal.</remarks>
public sealed class CheckpointReader : IDisposable
{
    /// <summary>File name of a single-file checkpoint.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>File name of the index of a sharded checkpoint.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly ImmutableSortedDictionary<string, string> _weightMap;
    // Visible name -> the name stored in the shard, for a language model read out of a multimodal checkpoint.
    private readonly ImmutableDictionary<string, string>? _stored;
    private readonly Dictionary<string, SafetensorsFile> _open = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _disposed;

    private CheckpointReader(string folder, string? indexPath, ImmutableSortedDictionary<string, string> weightMap, long? totalSize)
    {
        Folder = folder;
        IndexPath = indexPath;
        (weightMap, _stored, LanguageModelPrefix) = LanguageModelView(weightMap);
        _weightMap = weightMap;
        TotalSize = totalSize;
        ShardFiles = [.. weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        TensorNames = [.. weightMap.Keys];
    }

    /// <summary>The model folder.</summary>
    public string Folder { get; }

    /// <summary>Full path of the index file, or null for a single-file checkpoint.</summary>
    public string? IndexPath { get; }

    /// <summary>
    /// Where the language model of a multimodal checkpoint lies ("language_model.model." or "model.language_model."),
    /// whose tensors this reader shows under text names; null for a text checkpoint.
    /// </summary>
    public string? LanguageModelPrefix { get; }

    /// <summary>Whether the checkpoint is sharded (has an index).</summary>
    public bool IsSharded => IndexPath is not null;

    /// <summary>The index's metadata.total_size, when it has one.</summary>
    public long? TotalSize { get; }

    /// <summary>Shard file names (relative to <see cref="Folder"/>), sorted.</summary>
    public IReadOnlyList<string> ShardFiles { get; }

    /// <summary>Every tensor name, sorted ordinally.</summary>
    public IReadOnlyList<string> TensorNames { get; }

    /// <summary>
    /// Opens a model folder. For a single file the file is opened (and validated) now; shards of a
    /// sharded checkpoint are opened when first read.
    /// </summary>
    /// <param name="folder">The Hugging Face model folder.</param>
    /// <returns>The reader; dispose it to close the shards.</returns>
    /// <exception cref="CheckpointFormatException">No weights found or the index is malformed.</exception>
    public static CheckpointReader Open(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"Model folder '{full}' does not exist.");
        }

        var indexPath = Path.Combine(full, IndexFileName);
        if (File.Exists(indexPath))
        {
            var (map, total) = ParseIndex(full, indexPath);
            return new CheckpointReader(full, indexPath, map, total);
        }

        var single = Path.Combine(full, SingleFileName);
        if (!File.Exists(single))
        {
            throw new CheckpointFormatException(
                $"Model folder '{full}' has neither '{SingleFileName}' nor '{IndexFileName}'.") { FilePath = full };
        }

        var file = SafetensorsFile.Open(single);
        var reader = new CheckpointReader(
            full,
            null,
            file.Tensors.ToImmutableSortedDictionary(t => t.Name, _ => SingleFileName, StringComparer.Ordinal),
            null);
        reader._open.Add(SingleFileName, file);
        return reader;
    }

    /// <summary>Whether the checkpoint has a tensor of that name.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>True when present.</returns>
    public bool Contains(string name) => _weightMap.ContainsKey(name);

    /// <summary>The shard file (relative to <see cref="Folder"/>) holding a tensor.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The shard file name.</returns>
    public string ShardOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _weightMap.TryGetValue(name, out var shard)
            ? shard
            : throw new KeyNotFoundException($"Tensor '{name}' is not in checkpoint '{Folder}'.");
    }

    /// <summary>A tensor's header entry (opens its shard if needed).</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>Name, dtype, shape and byte length.</returns>
    public TensorInfo GetTensor(string name)
    {
        var info = Lookup(name).Info;
        return info.Name == name ? info : info with { Name = name };
    }

    /// <summary>Looks a tensor up without throwing when it is absent.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="info">Its header entry when present.</param>
    /// <returns>True when present.</returns>
    public bool TryGetTensor(string name, [NotNullWhen(true)] out TensorInfo? info)
    {
        info = Contains(name) ? GetTensor(name) : null;
        return info is not null;
    }

    /// <summary>Header entries of every tensor, sorted by name (opens every shard).</summary>
    /// <returns>The entries.</returns>
    public IEnumerable<TensorInfo> EnumerateTensors()
    {
        foreach (var name in TensorNames)
        {
            yield return GetTensor(name);
        }
    }

    /// <summary>The open shard holding a tensor, for direct span access.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The shard; owned by this reader, do not dispose it.</returns>
    public SafetensorsFile GetShard(string name) => Lookup(name).File;

    /// <summary>The tensor's bytes straight from the mapping; see <see cref="SafetensorsFile.GetSpan(string)"/>.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The bytes.</returns>
    public ReadOnlySpan<byte> GetSpan(string name)
    {
        var (file, info) = Lookup(name);
        return file.GetSpan(info);
    }

    /// <summary>Copies a whole tensor; see <see cref="SafetensorsFile.CopyTo(string, Span{byte})"/>.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="destination">At least the tensor's byte length.</param>
    public void CopyTo(string name, Span<byte> destination) => Lookup(name).File.CopyTo(StoredName(name), destination);

    /// <summary>Copies part of a tensor; see <see cref="SafetensorsFile.CopyTo(string, long, Span{byte})"/>.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="sourceOffset">Byte offset inside the tensor.</param>
    /// <param name="destination">Where the bytes go.</param>
    public void CopyTo(string name, long sourceOffset, Span<byte> destination)
        => Lookup(name).File.CopyTo(StoredName(name), sourceOffset, destination);

    /// <summary>Copies a tensor (under 2 GiB) into a new array.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The bytes.</returns>
    public byte[] ReadBytes(string name) => GetSpan(name).ToArray();

    /// <summary>Closes every open shard.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var file in _open.Values)
            {
                file.Dispose();
            }

            _open.Clear();
        }
    }

    private static (ImmutableSortedDictionary<string, string> Map, long? TotalSize) ParseIndex(string folder, string indexPath)
    {
        CheckpointFormatException Error(string what, string? tensor = null, Exception? inner = null) =>
            new($"Invalid checkpoint index '{indexPath}'{(tensor is null ? string.Empty : $", tensor '{tensor}'")}: {what}.", inner)
            {
                FilePath = indexPath,
                TensorName = tensor,
            };

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        }
        catch (JsonException e)
        {
            throw Error($"not valid JSON ({e.Message})", inner: e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("weight_map", out var weightMap)
                || weightMap.ValueKind != JsonValueKind.Object)
            {
                throw Error("expected an object with a \"weight_map\" object");
            }

            long? total = null;
            if (root.TryGetProperty("metadata", out var metadata)
                && metadata.ValueKind == JsonValueKind.Object
                && metadata.TryGetProperty("total_size", out var totalElement))
            {
                // Some exporters write total_size as a float; accept any integral number.
                if (totalElement.ValueKind != JsonValueKind.Number || !totalElement.TryGetDouble(out var t) || t < 0 || t != Math.Floor(t))
                {
                    throw Error($"metadata.total_size must be a non-negative integer, found {totalElement.GetRawText()}");
                }

                total = (long)t;
            }

            var map = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            foreach (var entry in weightMap.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                {
                    throw Error($"weight_map value must be a file name, found {entry.Value.GetRawText()}", entry.Name);
                }

                var shard = entry.Value.GetString()!;

                // A shard name that escapes the folder would let a downloaded index read arbitrary files.
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or "..")
                {
                    throw Error($"shard '{shard}' must be a plain file name inside the model folder", entry.Name);
                }

                if (!map.TryAdd(entry.Name, shard))
                {
                    throw Error("the weight_map lists this tensor twice", entry.Name);
                }
            }

            foreach (var shard in map.Values.Distinct(StringComparer.Ordinal))
            {
                if (!File.Exists(Path.Combine(folder, shard)))
                {
                    var tensor = map.First(p => p.Value == shard).Key;
                    throw Error($"shard file '{shard}' does not exist in '{folder}'", tensor);
                }
            }

            return (map.ToImmutable(), total);
        }
    }

    /// <summary>
    /// The tensors of a multimodal checkpoint's language model under text names, when the checkpoint has no text
    /// model's embedding but has one under a known language-model prefix; otherwise the map as it is.
    /// </summary>
    private static (ImmutableSortedDictionary<string, string> Map, ImmutableDictionary<string, string>? Stored, string? Prefix) LanguageModelView(
        ImmutableSortedDictionary<string, string> map)
    {
        const string embedding = "model.embed_tokens.weight";
        if (map.ContainsKey(embedding)) return (map, null, null);
        // transformers 4 (and the published Gemma 3 checkpoints): language_model.model.* and language_model.lm_head.*;
        // transformers 5's own layout: model.language_model.* beside a top-level lm_head.
        (string Prefix, string Model, string? Head)[] layouts =
        [
            ("language_model.model.", "language_model.model.", "language_model.lm_head."),
            ("model.language_model.", "model.language_model.", "lm_head."),
        ];
        foreach (var (prefix, model, head) in layouts)
        {
            if (!map.ContainsKey(model + "embed_tokens.weight")) continue;
            var visible = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            var stored = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            foreach (var (name, shard) in map)
            {
                string? text = name.StartsWith(model, StringComparison.Ordinal) ? "model." + name[model.Length..]
                    : head is not null && name.StartsWith(head, StringComparison.Ordinal) ? "lm_head." + name[head.Length..]
                    : null;
                if (text is null) continue;
                visible.Add(text, shard);
                stored.Add(text, name);
            }

            return (visible.ToImmutable(), stored.ToImmutable(), prefix);
        }

        return (map, null, null);
    }

    private string StoredName(string name) => _stored is not null && _stored.TryGetValue(name, out var stored) ? stored : name;

    private (SafetensorsFile File, TensorInfo Info) Lookup(string name)
    {
        var shard = ShardOf(name);
        var file = OpenShard(shard);
        return file.TryGetTensor(StoredName(name), out var info)
            ? (file, info)
            : throw new CheckpointFormatException(
                $"Checkpoint index '{IndexPath}' maps tensor '{name}' to shard '{file.FilePath}', which does not contain it.")
            {
                FilePath = file.FilePath,
                TensorName = name,
            };
    }

    private SafetensorsFile OpenShard(string shard)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_open.TryGetValue(shard, out var file))
            {
                file = SafetensorsFile.Open(Path.Combine(Folder, shard));
                _open.Add(shard, file);
            }

            return file;
        }
    }
}
