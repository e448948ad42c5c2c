using System.Text;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Sparse co-occurrence counts M[p, s] of aligned (pivot id, source id) pairs over a corpus (METHOD.md stage 2b).
/// A dense matrix would be pivot vocabulary x source vocabulary (tens of GB); the aligned pairs are a few million at most.
/// </summary>
/// <remarks>
/// Not thread-safe for <see cref="Add(int, int, int)"/>: give each thread its own instance and combine them with
/// <see cref="Merge"/>, which is thread-safe. Counts are sums, so the result does not depend on merge order.
/// </remarks>
public sealed class CooccurrenceStatistics
{
    private const uint Magic = 0x4F434346; // "FCCO" little-endian
    private const int FormatVersion = 1;

    private readonly Dictionary<long, int> _counts = [];
    private readonly Lock _mergeLock = new();

    /// <summary>Number of distinct (pivot, source) pairs with a count.</summary>
    public int PairCount => _counts.Count;

    /// <summary>Number of conversations counted so far; saved with the counts so that a restarted job can resume.</summary>
    public long Conversations { get; set; }

    /// <summary>The count of (pivot id, source id); 0 when never seen.</summary>
    public int this[int pivotId, int sourceId] => _counts.GetValueOrDefault(Key(pivotId, sourceId));

    /// <summary>Adds <paramref name="count"/> to M[pivotId, sourceId].</summary>
    public void Add(int pivotId, int sourceId, int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pivotId);
        ArgumentOutOfRangeException.ThrowIfNegative(sourceId);
        var key = Key(pivotId, sourceId);
        _counts[key] = checked(_counts.GetValueOrDefault(key) + count);
    }

    /// <summary>Counts every cell of an alignment: M[pivotIds[i], sourceIds[j]] += 1 for each aligned (i, j).</summary>
    public void AddAlignment(ReadOnlySpan<int> pivotIds, ReadOnlySpan<int> sourceIds, TokenAlignment alignment)
    {
        ArgumentNullException.ThrowIfNull(alignment);
        if (pivotIds.Length != alignment.PivotLength || sourceIds.Length != alignment.SourceLength)
        {
            throw new ArgumentException("Id sequences do not match the alignment's lengths.", nameof(alignment));
        }
        for (var k = 0; k < alignment.PathPivots.Count; k++)
        {
            Add(pivotIds[alignment.PathPivots[k]], sourceIds[alignment.PathSources[k]]);
        }
    }

    /// <summary>Adds all counts of <paramref name="other"/> into this instance; safe to call from several threads at once.</summary>
    public void Merge(CooccurrenceStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(other, this))
        {
            throw new ArgumentException("Cannot merge statistics into themselves.", nameof(other));
        }
        lock (_mergeLock)
        {
            foreach (var (key, count) in other._counts)
            {
                _counts[key] = checked(_counts.GetValueOrDefault(key) + count);
            }
            Conversations += other.Conversations;
        }
    }

    /// <summary>All non-zero counts ordered by pivot id, then source id.</summary>
    public IReadOnlyList<(int PivotId, int SourceId, int Count)> Entries()
    {
        var keys = _counts.Keys.ToArray();
        Array.Sort(keys);
        var result = new (int, int, int)[keys.Length];
        for (var k = 0; k < keys.Length; k++)
        {
            result[k] = ((int)(keys[k] >> 32), (int)(keys[k] & 0xFFFFFFFF), _counts[keys[k]]);
        }
        return result;
    }

    /// <summary>
    /// Writes the counts: header (magic "FCCO", version, conversations, pair count), then the pairs in key order as
    /// variable-length key deltas and counts, so equal statistics always give equal bytes.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(FormatVersion);
        w.Write(Conversations);
        var keys = _counts.Keys.ToArray();
        Array.Sort(keys);
        w.Write(keys.LongLength);
        var previous = 0L;
        foreach (var key in keys)
        {
            w.Write7BitEncodedInt64(key - previous);
            w.Write7BitEncodedInt(_counts[key]);
            previous = key;
        }
    }

    /// <summary>Saves to a file through a temporary file and a rename, so a crash never leaves a torn file.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var temporary = path + ".tmp";
        using (var file = File.Create(temporary))
        {
            Save(file);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads statistics written by <see cref="Save(Stream)"/>.</summary>
    public static CooccurrenceStatistics Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (r.ReadUInt32() != Magic)
        {
            throw new InvalidDataException("Not a co-occurrence statistics file.");
        }
        var version = r.ReadInt32();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Unsupported co-occurrence statistics version {version}.");
        }
        var result = new CooccurrenceStatistics { Conversations = r.ReadInt64() };
        var pairs = r.ReadInt64();
        result._counts.EnsureCapacity((int)Math.Min(pairs, 1 << 24));
        var key = 0L;
        for (var k = 0L; k < pairs; k++)
        {
            key += r.Read7BitEncodedInt64();
            result._counts.Add(key, r.Read7BitEncodedInt());
        }
        return result;
    }

    /// <summary>Reads statistics from a file written by <see cref="Save(string)"/>.</summary>
    public static CooccurrenceStatistics Load(string path)
    {
        using var file = File.OpenRead(path);
        return Load(file);
    }

    private static long Key(int pivotId, int sourceId) => ((long)pivotId << 32) | (uint)sourceId;
}
