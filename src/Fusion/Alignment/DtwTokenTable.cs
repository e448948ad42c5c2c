using System.Runtime.CompilerServices;

namespace FuseChat.Fusion.Alignment;

/// <summary>One token position as DTW sees it: interned ids and what the cost lower bound needs.</summary>
internal struct DtwToken
{
    /// <summary>Id of the token string (equal ids cost 0).</summary>
    public int Id;

    /// <summary>Id of the stripped string: equal classes of non-bare tokens cost 0.</summary>
    public int Class;

    /// <summary>Length of the stripped string (0 for a bare marker).</summary>
    public int Length;

    /// <summary>Index of the token string among the distinct strings of its side (cache key).</summary>
    public int Local;

    /// <summary>Characters of the stripped string, hashed into 32 buckets.</summary>
    public uint Mask;

    /// <summary>Id of the unified string (markers spelled "▁"), the comparison form next to a bare marker.</summary>
    public int UClass;

    /// <summary>Length of the unified string.</summary>
    public int ULength;

    /// <summary>Characters of the unified string, hashed into 32 buckets.</summary>
    public uint UMask;
}

/// <summary>
/// Distinct token strings of one pair with their comparison forms, and a cache of the edit distance of each
/// distinct (pivot string, source string) pair. Reused per thread.
/// </summary>
internal sealed class DtwTokenTable
{
    /// <summary>Cache entry of a cost too large for a byte: computed again on each use.</summary>
    public const byte Overflow = 255;

    // Above this many (pivot, source) distinct pairs the cache is skipped (4 MiB of entries per thread).
    private const int CacheLimit = 1 << 22;

    // Stands in for the cache when there is none: entry 0 is never written, so every lookup misses.
    private static readonly byte[] NoCache = new byte[1];

    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _classes = new(StringComparer.Ordinal);
    private readonly List<string> _stripped = [];
    private readonly List<string> _unified = [];
    private readonly List<DtwToken> _tokens = [];
    private int[] _pivotLocal = new int[256];
    private int[] _sourceLocal = new int[256];
    private int _pivotCount;
    private int _sourceCount;
    // One byte per distinct pair, cost + 1 (0: not computed yet): small enough to stay in cache while a DTW
    // sweeps it, and cleared per pair in microseconds.
    private byte[] _cache = [];
    private int _stride;
    private bool _cached;

    /// <summary>True when the pair just begun has a cost cache (<see cref="CacheArray"/>).</summary>
    public bool Cached => _cached;

    /// <summary>Entries per pivot string in <see cref="CacheArray"/>: the entry of a pair is at pivot.Local * Stride + source.Local.</summary>
    public int Stride => _stride;

    /// <summary>The cost cache: cost + 1, 0 when not computed, <see cref="Overflow"/> when too large.</summary>
    public byte[] CacheArray => _cached ? _cache : NoCache;

    /// <summary>Forgets the previous pair's strings.</summary>
    public void Reset()
    {
        _ids.Clear();
        _classes.Clear();
        _stripped.Clear();
        _unified.Clear();
        _tokens.Clear();
        _pivotCount = 0;
        _sourceCount = 0;
    }

    /// <summary>Interns a token of one side into <paramref name="slot"/>.</summary>
    public void Intern(string token, ref DtwToken slot, bool pivotSide)
    {
        if (!_ids.TryGetValue(token, out var id))
        {
            id = _tokens.Count;
            _ids.Add(token, id);
            var stripped = TokenMarkers.Strip(token);
            var unified = TokenMarkers.Unify(token);
            _stripped.Add(stripped);
            _unified.Add(unified);
            _tokens.Add(new DtwToken
            {
                Id = id,
                Class = ClassOf(stripped),
                Length = stripped.Length,
                Local = -1,
                Mask = MaskOf(stripped),
                UClass = ClassOf(unified),
                ULength = unified.Length,
                UMask = MaskOf(unified),
            });
            if (id >= _pivotLocal.Length)
            {
                Array.Resize(ref _pivotLocal, _pivotLocal.Length * 2);
                Array.Resize(ref _sourceLocal, _sourceLocal.Length * 2);
            }
            _pivotLocal[id] = -1;
            _sourceLocal[id] = -1;
        }
        var t = _tokens[id];
        ref var local = ref (pivotSide ? ref _pivotLocal[id] : ref _sourceLocal[id]);
        if (local < 0)
        {
            local = pivotSide ? _pivotCount++ : _sourceCount++;
        }
        t.Local = local;
        slot = t;
    }

    /// <summary>Starts the cost cache of the pair just interned.</summary>
    public void BeginPair()
    {
        var size = (long)_pivotCount * _sourceCount;
        _cached = size <= CacheLimit;
        if (!_cached)
        {
            _stride = 0;
            return;
        }
        _stride = _sourceCount;
        if (_cache.Length < size)
        {
            _cache = new byte[Math.Max(size, Math.Min(2L * _cache.Length, CacheLimit))];
        }
        else
        {
            Array.Clear(_cache, 0, (int)size);
        }
    }

    /// <summary>cost(pivot token, source token): the edit distance of their comparison forms.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Cost(in DtwToken pivot, in DtwToken source)
    {
        if (pivot.Id == source.Id)
        {
            return 0;
        }
        if (!_cached)
        {
            return CostSlow(pivot.Id, source.Id);
        }
        ref var slot = ref _cache[pivot.Local * _stride + source.Local];
        if (slot != 0 && slot != Overflow)
        {
            return slot - 1;
        }
        var v = CostSlow(pivot.Id, source.Id);
        slot = (byte)Math.Min(v + 1, Overflow);
        return v;
    }

    // Stripped and unified strings share one id space: equal ids, equal strings.
    private int ClassOf(string text)
    {
        if (!_classes.TryGetValue(text, out var cls))
        {
            cls = _classes.Count;
            _classes.Add(text, cls);
        }
        return cls;
    }

    private static uint MaskOf(string text)
    {
        uint mask = 0;
        foreach (var c in text)
        {
            mask |= 1U << (c & 31);
        }
        return mask;
    }

    private int CostSlow(int a, int b)
    {
        string sa = _stripped[a], sb = _stripped[b];
        if (sa.Length == 0 || sb.Length == 0)
        {
            return EditDistance.Compute(_unified[a].AsSpan(), _unified[b].AsSpan());
        }
        return _tokens[a].Class == _tokens[b].Class ? 0 : EditDistance.Compute(sa.AsSpan(), sb.AsSpan());
    }
}

/// <summary>Per-thread buffers of one DTW run, kept between pairs so that a pair allocates only its result.</summary>
internal sealed class DtwWorkspace
{
    // Bands above this many cells are not kept for the next pair.
    private const long KeepLimit = 1L << 24;

    [ThreadStatic]
    private static DtwWorkspace? t_cached;

    public DtwTokenTable Table { get; } = new();
    public DtwToken[] Pivot { get; private set; } = [];
    public DtwToken[] Source { get; private set; } = [];

    // Per position: string id, cache key (pivot: row offset, source: column), string length.
    public int[] PId { get; private set; } = [];
    public int[] PKey { get; private set; } = [];
    public int[] PLength { get; private set; } = [];
    public int[] SId { get; private set; } = [];
    public int[] SKey { get; private set; } = [];
    public int[] SLength { get; private set; } = [];

    // Kept cells of the pruned matrix; per row its first and end column and where its first column is stored.
    public int[] Band { get; private set; } = new int[1 << 16];
    public int[] RowLo { get; private set; } = [];
    public int[] RowEnd { get; private set; } = [];
    public int[] RowAt { get; private set; } = [];

    // Rolling rows of the banded upper-bound pass.
    public int[] RowA { get; private set; } = [];
    public int[] RowB { get; private set; } = [];

    public static DtwWorkspace Rent(int n, int m)
    {
        var w = t_cached ?? new DtwWorkspace();
        t_cached = null;
        if (w.Pivot.Length < n)
        {
            w.Pivot = new DtwToken[n];
            w.PId = new int[n];
            w.PKey = new int[n];
            w.PLength = new int[n];
            w.RowLo = new int[n];
            w.RowEnd = new int[n];
            w.RowAt = new int[n];
        }
        if (w.Source.Length < m)
        {
            w.Source = new DtwToken[m];
            w.SId = new int[m];
            w.SKey = new int[m];
            w.SLength = new int[m];
            w.RowA = new int[m + 1];
            w.RowB = new int[m + 1];
        }
        w.Table.Reset();
        return w;
    }

    /// <summary>The band, grown (contents kept) to hold at least <paramref name="cells"/> cells.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int[] EnsureBand(int cells)
    {
        if (Band.Length < cells)
        {
            Grow(cells);
        }
        return Band;
    }

    public static void Return(DtwWorkspace w)
    {
        if (w.Band.Length > KeepLimit)
        {
            w.Band = new int[1 << 16];
        }

        t_cached = w;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int cells)
    {
        var band = Band;
        Array.Resize(ref band, (int)Math.Min(Math.Max(cells, 2L * band.Length), Array.MaxLength));
        Band = band;
    }
}
