using System.Security.Cryptography;
using Apache.Arrow;
using Apache.Arrow.Compression;
using Apache.Arrow.Ipc;

namespace FuseChat.Fusion.Representations;

/// <summary>Writes and reads one Arrow IPC shard file.</summary>
internal static class RepresentationShardFile
{
    // Record batches of this many conversations keep the builder's copies small.
    private const int RowsPerBatch = 256;

    public static string Name(int index) => $"shard-{index:D5}.arrow";

    /// <summary>
    /// Writes <paramref name="records"/> to <paramref name="path"/> through a temporary file renamed
    /// once complete and flushed, so the final name only ever holds a whole shard.
    /// </summary>
    public static void Write(string path, IReadOnlyList<ConversationRepresentation> records, int k, RepresentationCompression compression,
        IReadOnlyDictionary<string, string> metadata)
    {
        var temporary = path + ".tmp";
        try
        {
            var schema = RepresentationArrow.CreateSchema(k, metadata);
            var options = compression == RepresentationCompression.Zstd
                ? new IpcOptions { CompressionCodec = CompressionCodecType.Zstd, CompressionCodecFactory = new CompressionCodecFactory() }
                : new IpcOptions();
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                using (var writer = new ArrowFileWriter(stream, schema, leaveOpen: true, options))
                {
                    writer.WriteStart();
                    for (var start = 0; start < records.Count; start += RowsPerBatch)
                    {
                        var slice = records.Skip(start).Take(RowsPerBatch).ToList();
                        using var batch = RepresentationArrow.ToRecordBatch(schema, slice, k);
                        writer.WriteRecordBatch(batch);
                    }
                    writer.WriteEnd();
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Streams the conversations of one shard file.</summary>
    public static IEnumerable<ConversationRepresentation> Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new ArrowFileReader(stream, allocator: null, new CompressionCodecFactory(), leaveOpen: false);
        var schema = reader.Schema;
        var k = schema.Metadata is { } metadata && metadata.TryGetValue("fusechat.top_k", out var text)
            ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture)
            : throw new InvalidDataException($"{path} has no fusechat.top_k schema metadata: not a representation shard");
        while (reader.ReadNextRecordBatch() is { } batch)
        {
            using (batch)
            {
                foreach (var record in RepresentationArrow.FromRecordBatch(batch, k)) yield return record;
            }
        }
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
