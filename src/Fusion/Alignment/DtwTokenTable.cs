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
}

/// <summary>
/// Distinct token strings of one pair with their comparison forms, and a cache of the edit distance of each
/// distinct (pivot string, source string) pair. Reused per thread: the cache is stamped with a generation, so
/// a new pair invalidates it without clearing it.
/// </summary>
internal sealed class DtwTokenTable
{
    // Above this many (pivot, source) distinct pairs the cache is skipped (8 MiB of entries per thread).
    private const int CacheLimit = 1 << 20;

    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _classes = new(StringComparer.Ordinal);
    private readonly List<string> _stripped = [];
    private readonly List<string> _unified = [];
    private readonly List<DtwToken> _tokens = [];
    private int[] _pivotLocal = new int[256];
    private int[] _sourceLocal = new int[256];
    private int _pivotCount;
    private int _sourceCount;
    private long[] _cache = [];
    private uint _generation;
    private int _stride;
    private bool _cached;

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
            if (!_classes.TryGetValue(stripped, out var cls))
            {
                cls = _classes.Count;
                _classes.Add(stripped, cls);
            }
            uint mask = 0;
            foreach (var c in stripped)
            {
                mask |= 1U << (c & 31);
            }
            _stripped.Add(stripped);
            _unified.Add(TokenMarkers.Unify(token));
            _tokens.Add(new DtwToken { Id = id, Class = cls, Length = stripped.Length, Local = -1, Mask = mask });
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
            return;
        }
        _stride = _sourceCount;
        if (_cache.Length < size)
        {
            _cache = new long[Math.Max(size, Math.Min(2L * _cache.Length, CacheLimit))];
            _generation = 0;
        }
        if (++_generation == 0)
        {
            Array.Clear(_cache);
            _generation = 1;
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
        if ((uint)(slot >> 32) == _generation)
        {
            return (int)slot;
        }
        var v = CostSlow(pivot.Id, source.Id);
        slot = ((long)_generation << 32) | (uint)v;
        return v;
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
    // Matrices above this many cells are not kept for the next pair.
    private const long KeepLimit = 1L << 24;

    // Room past the end for whole-vector loads.
    private const int Pad = 32;

    [ThreadStatic]
    private static DtwWorkspace? t_cached;

    public DtwTokenTable Table { get; } = new();
    public DtwToken[] Pivot { get; private set; } = [];
    public DtwToken[] Source { get; private set; } = [];
    public int[] D { get; private set; } = [];
    public ushort[] H { get; private set; } = [];
    public int[] RowLo { get; private set; } = [];
    public int[] RowEnd { get; private set; } = [];
    // Anti-diagonal k = i + j of H starts at Base[k] + i; three rolling anti-diagonals of lb + H.
    public int[] Base { get; private set; } = [];
    public int[] Diag0 { get; private set; } = [];
    public int[] Diag1 { get; private set; } = [];
    public int[] Diag2 { get; private set; } = [];

    // Lower-bound features, pivot by position and source in reverse order (padded for vector loads).
    public int[] PClass { get; private set; } = [];
    public int[] PLength { get; private set; } = [];
    public uint[] PMask { get; private set; } = [];
    public int[] RClass { get; private set; } = [];
    public int[] RLength { get; private set; } = [];
    public uint[] RMask { get; private set; } = [];

    public static DtwWorkspace Rent(int n, int m)
    {
        var w = t_cached ?? new DtwWorkspace();
        t_cached = null;
        var cells = checked(n * m);
        if (w.D.Length < cells)
        {
            w.D = new int[cells];
            w.H = new ushort[cells];
        }
        if (w.Pivot.Length < n)
        {
            w.Pivot = new DtwToken[n];
            w.RowLo = new int[n];
            w.RowEnd = new int[n];
            w.Diag0 = new int[n + Pad];
            w.Diag1 = new int[n + Pad];
            w.Diag2 = new int[n + Pad];
            w.PClass = new int[n + Pad];
            w.PLength = new int[n + Pad];
            w.PMask = new uint[n + Pad];
        }
        if (w.Source.Length < m)
        {
            w.Source = new DtwToken[m];
            w.RClass = new int[m + Pad];
            w.RLength = new int[m + Pad];
            w.RMask = new uint[m + Pad];
        }
        if (w.Base.Length < n + m)
        {
            w.Base = new int[n + m];
        }
        w.Table.Reset();
        return w;
    }

    public static void Return(DtwWorkspace w)
    {
        if (w.D.Length > KeepLimit)
        {
            return;
        }
        t_cached = w;
    }
}
