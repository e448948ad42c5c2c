using System.Collections.Immutable;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// A read-only, memory-mapped safetensors file: an 8-byte little-endian header length, a JSON
/// header describing each tensor, then the raw tensor bytes. Tensor bytes are handed out as
/// spans over the mapping, so nothing is copied until the caller copies it.
/// </summary>
/// <remarks>
/// Spans and streams handed out point into the mapping: they must not be used after
/// <see cref="Dispose"/>. Reading is thread-safe; disposing while reading is not.
/// </remarks>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>
    /// Largest header accepted, in bytes; the reference implementation uses the same bound so a
    /// corrupt length cannot make us allocate gigabytes.
    /// </summary>
    public const long MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Dictionary<string, TensorInfo> _byName;
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle;
    private byte* _base;

    private SafetensorsFile(
        string path,
        long fileLength,
        MemoryMappedFile map,
        MemoryMappedViewAccessor view,
        byte* basePointer)
    {
        FilePath = path;
        FileLength = fileLength;
        _map = map;
        _view = view;
        _base = basePointer;
        // Bulk copies read through this handle (pread), not the mapping: copied pages then stay in the
        // page cache instead of being counted in this process's resident memory for the file's lifetime.
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        _byName = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        Tensors = [];
        Metadata = ImmutableDictionary<string, string>.Empty;
    }

    /// <summary>Full path of the file.</summary>
    public string FilePath { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileLength { get; }

    /// <summary>Length of the JSON header in bytes (padding included), as stored in the first 8 bytes.</summary>
    public long HeaderLength { get; private set; }

    /// <summary>File offset of the data section: 8 + <see cref="HeaderLength"/>.</summary>
    public long DataStart => 8 + HeaderLength;

    /// <summary>Every tensor in the file, in the order of their data offsets.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; private set; }

    /// <summary>The header's "__metadata__" string map (empty when absent), e.g. {"format": "pt"}.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; private set; }

    /// <summary>Opens, maps and validates a safetensors file.</summary>
    /// <param name="path">Path of the .safetensors file.</param>
    /// <returns>The open file; dispose it to unmap.</returns>
    /// <exception cref="CheckpointFormatException">The file is truncated or its header is invalid.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fullPath = Path.GetFullPath(path);
        var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        SafetensorsFile? file = null;
        try
        {
            var length = stream.Length;
            if (length < 8)
            {
                throw Error(fullPath, null, $"file is truncated: {length} bytes, but a safetensors file starts with an 8-byte header length");
            }

            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            stream = null;
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            file = new SafetensorsFile(fullPath, length, map, view, pointer + view.PointerOffset);
            file.ParseHeader();
            return file;
        }
        catch
        {
            if (file is not null)
            {
                file.Dispose();
            }
            else
            {
                view?.Dispose();
                map?.Dispose();
                stream?.Dispose();
            }

            throw;
        }
    }

    /// <summary>Whether the file holds a tensor of that name.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>True when present.</returns>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Looks a tensor up by name.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="info">Its header entry when found.</param>
    /// <returns>True when present.</returns>
    public bool TryGetTensor(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TensorInfo? info)
        => _byName.TryGetValue(name, out info);

    /// <summary>Gets a tensor's header entry.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The entry.</returns>
    /// <exception cref="KeyNotFoundException">No such tensor; the message names the file.</exception>
    public TensorInfo GetTensor(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out var info)
            ? info
            : throw new KeyNotFoundException($"Tensor '{name}' is not in safetensors file '{FilePath}'.");
    }

    /// <summary>
    /// The tensor's bytes, straight from the mapping (little-endian, row-major). Valid until the
    /// file is disposed.
    /// </summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>A span of <see cref="TensorInfo.ByteLength"/> bytes.</returns>
    /// <exception cref="InvalidOperationException">The tensor is 2 GiB or larger: use
    /// <see cref="CopyTo(string, long, Span{byte})"/> or <see cref="OpenRead(string)"/>.</exception>
    public ReadOnlySpan<byte> GetSpan(string name) => GetSpan(GetTensor(name));

    /// <summary>The bytes of a tensor of this file; see <see cref="GetSpan(string)"/>.</summary>
    /// <param name="tensor">An entry of <see cref="Tensors"/>.</param>
    /// <returns>A span of <see cref="TensorInfo.ByteLength"/> bytes.</returns>
    public ReadOnlySpan<byte> GetSpan(TensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        CheckOwned(tensor);
        if (tensor.ByteLength > int.MaxValue)
        {
            throw new InvalidOperationException(
                $"Tensor '{tensor.Name}' in '{FilePath}' is {tensor.ByteLength} bytes, too large for one span; read it in pieces with CopyTo(name, offset, destination) or OpenRead.");
        }

        return new ReadOnlySpan<byte>(Pointer(tensor), (int)tensor.ByteLength);
    }

    /// <summary>Copies a whole tensor into <paramref name="destination"/>.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="destination">At least <see cref="TensorInfo.ByteLength"/> bytes.</param>
    public void CopyTo(string name, Span<byte> destination)
    {
        var tensor = GetTensor(name);
        if (destination.Length < tensor.ByteLength)
        {
            throw new ArgumentException(
                $"Destination has {destination.Length} bytes but tensor '{name}' in '{FilePath}' has {tensor.ByteLength}.", nameof(destination));
        }

        CopyTo(name, 0, destination[..(int)tensor.ByteLength]);
    }

    /// <summary>
    /// Copies <paramref name="destination"/>.Length bytes of a tensor, starting at
    /// <paramref name="sourceOffset"/> within the tensor; reads tensors of any size in pieces.
    /// </summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="sourceOffset">Byte offset inside the tensor.</param>
    /// <param name="destination">Where the bytes go; its length is the count copied.</param>
    public void CopyTo(string name, long sourceOffset, Span<byte> destination)
    {
        var tensor = GetTensor(name);
        if (sourceOffset < 0 || sourceOffset > tensor.ByteLength || destination.Length > tensor.ByteLength - sourceOffset)
        {
            throw new ArgumentOutOfRangeException(
                nameof(sourceOffset),
                $"Range [{sourceOffset}, {sourceOffset + destination.Length}) is outside tensor '{name}' ({tensor.ByteLength} bytes) in '{FilePath}'.");
        }

        var position = DataStart + tensor.DataOffset + sourceOffset;
        ObjectDisposedException.ThrowIf(_base == null, this);
        while (!destination.IsEmpty)
        {
            var read = RandomAccess.Read(_handle, destination, position);
            if (read <= 0) throw Error(FilePath, name, $"file ended while reading at byte {position}");
            destination = destination[read..];
            position += read;
        }
    }

    /// <summary>Copies a tensor (under 2 GiB) into a new array.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The bytes.</returns>
    public byte[] ReadBytes(string name) => GetSpan(name).ToArray();

    /// <summary>
    /// A read-only stream over a tensor's bytes in the mapping, for tensors of any size. Valid
    /// until the file is disposed.
    /// </summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>A seekable stream of <see cref="TensorInfo.ByteLength"/> bytes.</returns>
    public Stream OpenRead(string name)
    {
        var tensor = GetTensor(name);
        return new UnmanagedMemoryStream(Pointer(tensor), tensor.ByteLength, tensor.ByteLength, FileAccess.Read);
    }

    /// <summary>Unmaps and closes the file.</summary>
    public void Dispose()
    {
        if (_base != null)
        {
            _base = null;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }

        _view.Dispose();
        _map.Dispose();
        _handle.Dispose();
    }

    private static CheckpointFormatException Error(string path, string? tensor, string what, Exception? inner = null)
    {
        var message = tensor is null
            ? $"Invalid safetensors file '{path}': {what}."
            : $"Invalid safetensors file '{path}', tensor '{tensor}': {what}.";
        return new CheckpointFormatException(message, inner) { FilePath = path, TensorName = tensor };
    }

    private byte* Pointer(TensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return _base + DataStart + tensor.DataOffset;
    }

    private void CheckOwned(TensorInfo tensor)
    {
        if (!_byName.TryGetValue(tensor.Name, out var own) || !ReferenceEquals(own, tensor))
        {
            throw new ArgumentException($"Tensor '{tensor.Name}' does not come from '{FilePath}'.", nameof(tensor));
        }
    }

    private void ParseHeader()
    {
        var raw = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(_base, 8));
        if (raw == 0)
        {
            throw Error(FilePath, null, "header length is 0");
        }

        if (raw > MaxHeaderLength)
        {
            throw Error(FilePath, null, $"header length {raw} exceeds the limit of {MaxHeaderLength} bytes (corrupt or not a safetensors file)");
        }

        if ((long)raw > FileLength - 8)
        {
            throw Error(FilePath, null, $"file is truncated: header length is {raw} bytes but only {FileLength - 8} bytes follow the length field");
        }

        HeaderLength = (long)raw;
        var dataLength = FileLength - DataStart;
        var headerBytes = new ReadOnlySpan<byte>(_base + 8, (int)raw).ToArray();

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException e)
        {
            throw Error(FilePath, null, $"header is not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Error(FilePath, null, $"header must be a JSON object, found {document.RootElement.ValueKind}");
            }

            var tensors = new List<TensorInfo>();
            var metadata = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            var sawMetadata = false;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (sawMetadata)
                    {
                        throw Error(FilePath, null, "header has two __metadata__ entries");
                    }

                    sawMetadata = true;
                    ParseMetadata(property.Value, metadata);
                    continue;
                }

                if (_byName.ContainsKey(property.Name))
                {
                    throw Error(FilePath, property.Name, "the header lists this tensor twice");
                }

                var info = ParseTensor(property.Name, property.Value, dataLength);
                _byName.Add(info.Name, info);
                tensors.Add(info);
            }

            tensors.Sort(static (a, b) => a.DataOffset != b.DataOffset
                ? a.DataOffset.CompareTo(b.DataOffset)
                : a.ByteLength.CompareTo(b.ByteLength));

            // Empty tensors occupy no bytes and may share an offset with their neighbour.
            TensorInfo? previous = null;
            foreach (var t in tensors)
            {
                if (t.ByteLength == 0)
                {
                    continue;
                }

                if (previous is not null && t.DataOffset < previous.DataOffset + previous.ByteLength)
                {
                    throw Error(
                        FilePath,
                        t.Name,
                        $"its data [{t.DataOffset}, {t.DataOffset + t.ByteLength}) overlaps tensor '{previous.Name}' [{previous.DataOffset}, {previous.DataOffset + previous.ByteLength})");
                }

                previous = t;
            }

            Tensors = tensors.AsReadOnly();
            Metadata = metadata.ToImmutable();
        }
    }

    private void ParseMetadata(JsonElement value, ImmutableDictionary<string, string>.Builder metadata)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(FilePath, null, $"__metadata__ must be an object of strings, found {value.ValueKind}");
        }

        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw Error(FilePath, null, $"__metadata__ entry '{entry.Name}' must be a string, found {entry.Value.ValueKind}");
            }

            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private TensorInfo ParseTensor(string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(FilePath, name, $"entry must be an object with dtype, shape and data_offsets, found {value.ValueKind}");
        }

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw Error(FilePath, name, "missing or non-string \"dtype\"");
        }

        var dtypeName = dtypeElement.GetString()!;
        if (!SafetensorsDTypes.TryParseHeaderName(dtypeName, out var dtype))
        {
            throw Error(
                FilePath,
                name,
                $"unsupported dtype \"{dtypeName}\" (supported: {string.Join(", ", SafetensorsDTypes.All.Select(d => d.ToHeaderName()))})");
        }

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw Error(FilePath, name, "missing or non-array \"shape\"");
        }

        var shape = ImmutableArray.CreateBuilder<long>(shapeElement.GetArrayLength());
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
            {
                throw Error(FilePath, name, $"shape entries must be non-negative integers, found {d.GetRawText()}");
            }

            shape.Add(dim);
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsElement)
            || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
        {
            throw Error(FilePath, name, "missing \"data_offsets\" or it is not an array of two integers");
        }

        var begin = ReadOffset(name, offsetsElement[0]);
        var end = ReadOffset(name, offsetsElement[1]);
        if (end < begin)
        {
            throw Error(FilePath, name, $"data_offsets [{begin}, {end}] end before they begin");
        }

        if (end > dataLength)
        {
            throw Error(
                FilePath,
                name,
                $"data_offsets [{begin}, {end}] are out of range: the data section holds {dataLength} bytes (file truncated or offsets corrupt)");
        }

        var shapeArray = shape.MoveToImmutable();
        var expected = SafetensorsDTypes.ByteLength(dtype.Value, shapeArray.AsSpan());
        if (expected < 0)
        {
            throw Error(FilePath, name, $"shape {ShapeText.Format(shapeArray.AsSpan())} overflows a 64-bit byte count");
        }

        if (expected != end - begin)
        {
            throw Error(
                FilePath,
                name,
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"dtype {dtypeName} with shape {ShapeText.Format(shapeArray.AsSpan())} needs {expected} bytes but data_offsets [{begin}, {end}] span {end - begin}"));
        }

        return new TensorInfo(name, dtype.Value, shapeArray, begin, end - begin);
    }

    private long ReadOffset(string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var offset) || offset < 0)
        {
            throw Error(FilePath, name, $"data_offsets entries must be non-negative integers, found {element.GetRawText()}");
        }

        return offset;
    }
}
