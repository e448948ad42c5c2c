using System.Collections.Immutable;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// Writes one safetensors file. The caller declares every tensor up front, so the header is
/// written first and tensor data streams straight to its final position; tensors (or pieces of
/// them) may be written in any order, from several threads. The file is written under a
/// temporary name in the same folder and renamed by <see cref="Complete"/>: a writer disposed
/// without completing deletes it, so a failure never leaves a half-written file under the final
/// name.
/// </summary>
/// <remarks>
/// Layout follows the Hugging Face implementation: the JSON header is padded with spaces to a
/// multiple of 8 bytes, and "__metadata__" carries {"format": "pt"} unless the caller overrides it.
/// Data is laid out in declaration order.
/// </remarks>
public sealed class SafetensorsWriter : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, int> _index;
    private readonly long[] _written;
    private bool _finished;
    private bool _committed;
    private bool _disposed;

    /// <summary>Creates the temporary file and writes the header.</summary>
    /// <param name="path">Final path of the .safetensors file; replaced on <see cref="Complete"/> if it exists.</param>
    /// <param name="tensors">Every tensor the file will hold, in data order.</param>
    /// <param name="metadata">Header "__metadata__" strings; null means {"format": "pt"}.</param>
    public SafetensorsWriter(string path, IEnumerable<TensorDeclaration> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        FilePath = Path.GetFullPath(path);
        var declarations = tensors.ToList();
        Metadata = metadata is null
            ? ImmutableDictionary<string, string>.Empty.Add("format", "pt")
            : metadata.ToImmutableDictionary(StringComparer.Ordinal);

        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        var infos = new List<TensorInfo>(declarations.Count);
        long offset = 0;
        foreach (var d in declarations)
        {
            ArgumentNullException.ThrowIfNull(d);
            if (string.IsNullOrEmpty(d.Name) || d.Name == "__metadata__")
            {
                throw new ArgumentException($"Invalid tensor name '{d.Name}' for '{FilePath}'.", nameof(tensors));
            }

            if (!_index.TryAdd(d.Name, infos.Count))
            {
                throw new ArgumentException($"Tensor '{d.Name}' is declared twice for '{FilePath}'.", nameof(tensors));
            }

            var length = d.ByteLength;
            infos.Add(new TensorInfo(d.Name, d.DType, d.Shape, offset, length));
            offset = checked(offset + length);
        }

        Tensors = infos.AsReadOnly();
        DataLength = offset;
        _written = new long[infos.Count];

        var header = BuildHeader(infos, Metadata);
        HeaderLength = header.Length - 8;

        var directory = Path.GetDirectoryName(FilePath)!;
        Directory.CreateDirectory(directory);
        TempPath = Path.Combine(directory, $".{Path.GetFileName(FilePath)}.{Guid.NewGuid():N}.tmp");
        _handle = File.OpenHandle(TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None);
        try
        {
            RandomAccess.Write(_handle, header, 0);
            if (DataLength > 0)
            {
                // Sizing the file now makes out-of-order writes land in a file of the final size.
                RandomAccess.SetLength(_handle, header.Length + DataLength);
            }
        }
        catch
        {
            _handle.Dispose();
            TryDelete(TempPath);
            throw;
        }
    }

    /// <summary>Final path of the file.</summary>
    public string FilePath { get; }

    /// <summary>Temporary path written until <see cref="Complete"/> renames it.</summary>
    public string TempPath { get; }

    /// <summary>The declared tensors with their planned data offsets.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The header metadata written.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Length of the padded JSON header in bytes.</summary>
    public long HeaderLength { get; }

    /// <summary>Sum of all tensors' byte lengths.</summary>
    public long DataLength { get; }

    /// <summary>Total size of the finished file.</summary>
    public long FileLength => 8 + HeaderLength + DataLength;

    /// <summary>Writes a whole tensor.</summary>
    /// <param name="name">A declared tensor name.</param>
    /// <param name="data">Exactly the tensor's bytes, little-endian, row-major.</param>
    public void WriteTensor(string name, ReadOnlySpan<byte> data)
    {
        var info = Tensors[IndexOf(name)];
        if (data.Length != info.ByteLength)
        {
            throw new ArgumentException(
                $"Tensor '{name}' for '{FilePath}' is declared as {info.DType.ToHeaderName()} {info.FormatShape()} ({info.ByteLength} bytes) but {data.Length} bytes were given.",
                nameof(data));
        }

        WriteTensorChunk(name, 0, data);
    }

    /// <summary>
    /// Writes part of a tensor, for tensors too large to hold at once. The pieces of one tensor
    /// must not overlap; <see cref="Complete"/> checks that their lengths add up.
    /// </summary>
    /// <param name="name">A declared tensor name.</param>
    /// <param name="offsetInTensor">Byte offset of the piece inside the tensor.</param>
    /// <param name="data">The piece.</param>
    public void WriteTensorChunk(string name, long offsetInTensor, ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
        {
            throw new InvalidOperationException($"Writer for '{FilePath}' is already complete.");
        }

        var i = IndexOf(name);
        var info = Tensors[i];
        if (offsetInTensor < 0 || offsetInTensor > info.ByteLength || data.Length > info.ByteLength - offsetInTensor)
        {
            throw new ArgumentOutOfRangeException(
                nameof(offsetInTensor),
                $"Range [{offsetInTensor}, {offsetInTensor + data.Length}) is outside tensor '{name}' ({info.ByteLength} bytes) for '{FilePath}'.");
        }

        RandomAccess.Write(_handle, data, 8 + HeaderLength + info.DataOffset + offsetInTensor);
        Interlocked.Add(ref _written[i], data.Length);
    }

    /// <summary>
    /// Checks every tensor was fully written, flushes to disk and renames the temporary file to
    /// <see cref="FilePath"/>, replacing any file there.
    /// </summary>
    public void Complete()
    {
        Finish();
        Commit();
    }

    /// <summary>Closes the file; deletes the temporary file unless <see cref="Complete"/> succeeded.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _handle.Dispose();
        if (!_committed)
        {
            TryDelete(TempPath);
        }
    }

    /// <summary>Verifies and flushes, leaving the data under <see cref="TempPath"/>.</summary>
    internal void Finish()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
        {
            return;
        }

        var problems = new List<string>();
        for (var i = 0; i < Tensors.Count; i++)
        {
            var written = Volatile.Read(ref _written[i]);
            if (written != Tensors[i].ByteLength)
            {
                problems.Add($"'{Tensors[i].Name}' has {written} of {Tensors[i].ByteLength} bytes");
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                $"Cannot complete '{FilePath}': {problems.Count} tensor(s) not fully written: {string.Join("; ", problems)}.");
        }

        RandomAccess.FlushToDisk(_handle);
        _handle.Dispose();
        _finished = true;
    }

    /// <summary>Renames the finished temporary file to its final name.</summary>
    internal void Commit()
    {
        if (!_finished)
        {
            throw new InvalidOperationException($"Writer for '{FilePath}' is not finished.");
        }

        if (_committed)
        {
            return;
        }

        File.Move(TempPath, FilePath, overwrite: true);
        _committed = true;
    }

    internal static byte[] BuildHeader(IReadOnlyList<TensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        buffer.Write(new byte[8]);
        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var json = new Utf8JsonWriter(buffer, options))
        {
            json.WriteStartObject();
            if (metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            foreach (var t in tensors)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.ToHeaderName());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(t.DataOffset);
                json.WriteNumberValue(t.DataOffset + t.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        // Spaces keep the data section 8-byte aligned, as the reference writer does.
        var jsonLength = buffer.Length - 8;
        var padding = (8 - (jsonLength % 8)) % 8;
        for (var i = 0; i < padding; i++)
        {
            buffer.WriteByte((byte)' ');
        }

        var bytes = buffer.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(bytes.Length - 8));
        return bytes;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the temporary name is unique and hidden, so a leftover harms nothing.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private int IndexOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _index.TryGetValue(name, out var i)
            ? i
            : throw new ArgumentException($"Tensor '{name}' was not declared for '{FilePath}'.", nameof(name));
    }
}
