using System.Buffers.Binary;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// The DTW paths of one pivot shard's conversations, written by the counting pass so that the aligning pass need not
/// run the DTW a second time. A path is stored as its steps from (0, 0), two bits each (diagonal, pivot step, source
/// step): about (n + m) / 4 bytes for an n x m conversation, against milliseconds to recompute it.
/// </summary>
/// <remarks>
/// Layout: "FCPATHS1", the entry count (int32), then per entry the conversation index (int64), n, m, the path cost
/// and the step count (int32), all little-endian, followed by the packed steps. A file that does not parse is treated as absent: the
/// aligning pass recomputes its paths, which gives the same alignments.
/// </remarks>
internal static class AlignmentPathFile
{
    private static readonly byte[] Magic = "FCPATHS1"u8.ToArray();

    private const byte Diagonal = 0;
    private const byte PivotStep = 1;
    private const byte SourceStep = 2;

    /// <summary>Writes the paths (temporary file, then renamed: never a half-written file under the name).</summary>
    public static void Write(string path, IEnumerable<(long ConversationIndex, TokenAlignment Alignment)> entries)
    {
        var list = entries.ToList();
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Magic);
            writer.Write(list.Count);
            foreach (var (conversation, alignment) in list)
            {
                var steps = alignment.PathPivots.Count - 1;
                writer.Write(conversation);
                writer.Write(alignment.PivotLength);
                writer.Write(alignment.SourceLength);
                writer.Write(alignment.Cost);
                writer.Write(steps);
                var packed = new byte[(steps + 3) / 4];
                for (var s = 0; s < steps; s++)
                {
                    var di = alignment.PathPivots[s + 1] - alignment.PathPivots[s];
                    var dj = alignment.PathSources[s + 1] - alignment.PathSources[s];
                    var code = (di, dj) switch
                    {
                        (1, 1) => Diagonal,
                        (1, 0) => PivotStep,
                        (0, 1) => SourceStep,
                        _ => throw new ArgumentException($"conversation {conversation}: the path is not a DTW path (step {di},{dj})", nameof(entries)),
                    };
                    packed[s >> 2] |= (byte)(code << ((s & 3) * 2));
                }
                writer.Write(packed);
            }
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The paths by conversation index, or null when the file is absent or does not parse.</summary>
    public static Dictionary<long, TokenAlignment>? TryRead(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        var bytes = File.ReadAllBytes(path).AsSpan();
        if (bytes.Length < Magic.Length + 4 || !bytes[..Magic.Length].SequenceEqual(Magic))
        {
            return null;
        }
        var at = Magic.Length;
        var count = Int(bytes, ref at);
        var result = new Dictionary<long, TokenAlignment>(Math.Max(0, count));
        for (var e = 0; e < count; e++)
        {
            if (bytes.Length - at < 24)
            {
                return null;
            }
            var conversation = BinaryPrimitives.ReadInt64LittleEndian(bytes[at..]);
            at += 8;
            int n = Int(bytes, ref at), m = Int(bytes, ref at), cost = Int(bytes, ref at), steps = Int(bytes, ref at);
            var length = (steps + 3) / 4;
            // A monotone path from (0, 0) to (n-1, m-1) takes between max(n, m) - 1 and n + m - 2 steps.
            if (n <= 0 || m <= 0 || steps < Math.Max(n, m) - 1 || steps > n + m - 2 || bytes.Length - at < length)
            {
                return null;
            }
            var pivots = new int[steps + 1];
            var sources = new int[steps + 1];
            int i = 0, j = 0;
            for (var s = 0; s < steps; s++)
            {
                var code = (bytes[at + (s >> 2)] >> ((s & 3) * 2)) & 3;
                if (code > SourceStep)
                {
                    return null;
                }
                i += code is Diagonal or PivotStep ? 1 : 0;
                j += code is Diagonal or SourceStep ? 1 : 0;
                pivots[s + 1] = i;
                sources[s + 1] = j;
            }
            at += length;
            if (i != n - 1 || j != m - 1)
            {
                return null;
            }
            result[conversation] = new TokenAlignment(n, m, pivots, sources) { Cost = cost };
        }
        return result;
    }

    private static int Int(ReadOnlySpan<byte> bytes, ref int at)
    {
        var value = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);
        at += 4;
        return value;
    }
}
