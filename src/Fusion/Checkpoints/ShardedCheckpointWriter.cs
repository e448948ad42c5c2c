using System.Collections.Immutable;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// Writes a Hugging Face checkpoint's weights into a model folder, split into shards of at most
/// <see cref="MaxShardBytes"/> tensor bytes ("model-00001-of-00003.safetensors", ...) plus
/// "model.safetensors.index.json", or one "model.safetensors" when everything fits in one shard
/// (as transformers' save_pretrained does).
/// </summary>
/// <remarks>
/// Every shard and the index are written under temporary names and renamed only by
/// <see cref="Complete"/>, so a failure or a dispose without completing leaves no partial shard
/// under a final name. After the rename, shard files and index left by an earlier save under the
/// same prefix are deleted, so readers never see a stale mix.
/// </remarks>
public sealed partial class ShardedCheckpointWriter : IDisposable
{
    private readonly List<TensorDeclaration>[] _shardTensors;
    private readonly SafetensorsWriter?[] _writers;
    private readonly Dictionary<string, int> _shardOf;
    private readonly IReadOnlyDictionary<string, string>? _metadata;
    private readonly Lock _lock = new();
    private bool _completed;
    private bool _disposed;

    /// <summary>Plans the shards; files are created as tensors are written.</summary>
    /// <param name="folder">The model folder (created if missing).</param>
    /// <param name="tensors">Every tensor of the checkpoint, in the order to store them.</param>
    /// <param name="maxShardBytes">Largest sum of tensor bytes per shard; a tensor larger than
    /// this gets a shard of its own.</param>
    /// <param name="metadata">Header metadata of each shard; null means {"format": "pt"}.</param>
    /// <param name="prefix">File name stem: "model" gives model.safetensors and model-0000i-of-0000n.safetensors.</param>
    public ShardedCheckpointWriter(
        string folder,
        IEnumerable<TensorDeclaration> tensors,
        long maxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null,
        string prefix = "model")
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.IndexOfAny(['/', '\\']) >= 0)
        {
            throw new ArgumentException($"Prefix '{prefix}' must be a plain file name stem.", nameof(prefix));
        }

        Folder = Path.GetFullPath(folder);
        Prefix = prefix;
        MaxShardBytes = maxShardBytes;
        _metadata = metadata;

        var shards = PlanShards(tensors, maxShardBytes, Folder, nameof(tensors));
        _shardOf = new Dictionary<string, int>(StringComparer.Ordinal);
        long total = 0;
        for (var i = 0; i < shards.Count; i++)
        {
            foreach (var t in shards[i])
            {
                _shardOf.Add(t.Name, i);
                total = checked(total + t.ByteLength);
            }
        }

        _shardTensors = [.. shards];
        _writers = new SafetensorsWriter?[_shardTensors.Length];
        TotalSize = total;
        ShardFileNames = ShardNames(_shardTensors.Length, prefix);
        WeightMap = _shardOf.ToImmutableSortedDictionary(p => p.Key, p => ShardFileNames[p.Value], StringComparer.Ordinal);
        Directory.CreateDirectory(Folder);
    }

    /// <summary>The model folder written to.</summary>
    public string Folder { get; }

    /// <summary>File name stem of the shards and the index.</summary>
    public string Prefix { get; }

    /// <summary>Largest sum of tensor bytes per shard.</summary>
    public long MaxShardBytes { get; }

    /// <summary>Sum of all tensors' byte lengths: the index's metadata.total_size.</summary>
    public long TotalSize { get; }

    /// <summary>Shard file names, in order.</summary>
    public IReadOnlyList<string> ShardFileNames { get; }

    /// <summary>Tensor name to shard file name, as written to the index.</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>Name of the single-file checkpoint, e.g. "model.safetensors".</summary>
    public string SingleFileName => Prefix + ".safetensors";

    /// <summary>Name of the index file, e.g. "model.safetensors.index.json".</summary>
    public string IndexFileName => Prefix + ".safetensors.index.json";

    /// <summary>
    /// Splits the tensors, in order, into shards of at most <paramref name="maxShardBytes"/> tensor bytes (a
    /// larger tensor gets a shard of its own), as the writer lays them out; throws on a name declared twice.
    /// </summary>
    internal static List<List<TensorDeclaration>> PlanShards(IEnumerable<TensorDeclaration> tensors, long maxShardBytes,
        string folder, string parameterName)
    {
        var shards = new List<List<TensorDeclaration>> { new() };
        var names = new HashSet<string>(StringComparer.Ordinal);
        long current = 0;
        foreach (var t in tensors)
        {
            ArgumentNullException.ThrowIfNull(t, parameterName);
            var length = t.ByteLength;
            if (shards[^1].Count > 0 && current + length > maxShardBytes)
            {
                shards.Add([]);
                current = 0;
            }

            if (!names.Add(t.Name))
            {
                throw new ArgumentException($"Tensor '{t.Name}' is declared twice for '{folder}'.", parameterName);
            }

            shards[^1].Add(t);
            current += length;
        }

        return shards;
    }

    /// <summary>The shard file names for <paramref name="count"/> shards: "model.safetensors" alone, else "model-0000i-of-0000n.safetensors".</summary>
    internal static IReadOnlyList<string> ShardNames(int count, string prefix) => count == 1
        ? [prefix + ".safetensors"]
        : [.. Enumerable.Range(1, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i:D5}-of-{count:D5}.safetensors"))];

    /// <summary>Writes a whole tensor into its shard.</summary>
    /// <param name="name">A declared tensor name.</param>
    /// <param name="data">Exactly the tensor's bytes.</param>
    public void WriteTensor(string name, ReadOnlySpan<byte> data) => WriterFor(name).WriteTensor(name, data);

    /// <summary>Writes part of a tensor; see <see cref="SafetensorsWriter.WriteTensorChunk"/>.</summary>
    /// <param name="name">A declared tensor name.</param>
    /// <param name="offsetInTensor">Byte offset of the piece inside the tensor.</param>
    /// <param name="data">The piece.</param>
    public void WriteTensorChunk(string name, long offsetInTensor, ReadOnlySpan<byte> data)
        => WriterFor(name).WriteTensorChunk(name, offsetInTensor, data);

    /// <summary>
    /// Checks all tensors were written, flushes every shard, renames shards and index to their
    /// final names and removes stale shards of an earlier save.
    /// </summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            return;
        }

        // Shards holding only empty tensors never saw a write: create them now.
        for (var i = 0; i < _writers.Length; i++)
        {
            EnsureWriter(i);
        }

        foreach (var w in _writers)
        {
            w!.Finish();
        }

        string? indexTemp = null;
        var indexPath = Path.Combine(Folder, IndexFileName);
        if (ShardFileNames.Count > 1)
        {
            indexTemp = Path.Combine(Folder, $".{IndexFileName}.{Guid.NewGuid():N}.tmp");
            File.WriteAllBytes(indexTemp, BuildIndex());
        }

        try
        {
            foreach (var w in _writers)
            {
                w!.Commit();
            }

            if (indexTemp is not null)
            {
                File.Move(indexTemp, indexPath, overwrite: true);
                indexTemp = null;
            }
        }
        finally
        {
            if (indexTemp is not null)
            {
                File.Delete(indexTemp);
            }
        }

        _completed = true;
        RemoveStaleFiles(indexPath);
    }

    /// <summary>Closes the shards; deletes temporary files unless <see cref="Complete"/> succeeded.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var w in _writers)
        {
            w?.Dispose();
        }
    }

    [GeneratedRegex(@"^(?<prefix>.+)-\d{5}-of-\d{5}\.safetensors$", RegexOptions.CultureInvariant)]
    private static partial Regex ShardNamePattern();

    private byte[] BuildIndex() => BuildIndex(TotalSize, WeightMap);

    /// <summary>The index file's bytes (metadata.total_size and the weight map, sorted by tensor name).</summary>
    internal static byte[] BuildIndex(long totalSize, IReadOnlyDictionary<string, string> weightMap)
    {
        using var buffer = new MemoryStream();
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var json = new Utf8JsonWriter(buffer, options))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", totalSize);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (tensor, file) in weightMap.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WriteString(tensor, file);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private void RemoveStaleFiles(string indexPath)
    {
        var keep = new HashSet<string>(ShardFileNames, StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(Folder, Prefix + "-*-of-*.safetensors"))
        {
            var name = Path.GetFileName(path);
            var match = ShardNamePattern().Match(name);
            if (match.Success && match.Groups["prefix"].Value == Prefix && !keep.Contains(name))
            {
                File.Delete(path);
            }
        }

        if (ShardFileNames.Count == 1)
        {
            File.Delete(indexPath);
        }
        else
        {
            File.Delete(Path.Combine(Folder, SingleFileName));
        }
    }

    private SafetensorsWriter WriterFor(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(name);
        return _shardOf.TryGetValue(name, out var shard)
            ? EnsureWriter(shard)
            : throw new ArgumentException($"Tensor '{name}' was not declared for '{Folder}'.", nameof(name));
    }

    private SafetensorsWriter EnsureWriter(int shard)
    {
        lock (_lock)
        {
            return _writers[shard] ??= new SafetensorsWriter(
                Path.Combine(Folder, ShardFileNames[shard]), _shardTensors[shard], _metadata);
        }
    }
}
