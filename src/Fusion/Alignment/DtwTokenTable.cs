using System.Runtime.CompilerServices;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// The distinct tokens of one pair, numbered per side (local ids), and a dense table of their costs: one byte
/// per (distinct pivot token, distinct source token), cost + 1, 0 while not yet known, so the DTW's inner loop
/// reads a cell's cost with one byte load and no hashing. Entries known from the tokens' attributes alone are written
/// when the table starts (<see cref="DtwKnownCosts"/>); the others come from the process-wide cost table
/// (<see cref="DtwCostCache"/>) or are computed, lazily, only for cells the DTW keeps. Reused per thread.
/// </summary>
internal sealed class DtwTokenTable
{
    /// <summary>Dense entry of a cost too large for a byte: computed again on each use.</summary>
    public const byte Overflow = 255;

    /// <summary>Cost standing for "above the bound": the cell is pruned.</summary>
    public const int Infinity = int.MaxValue / 2;

    // Above this many (pivot, source) distinct pairs the dense table is skipped (4 MiB per thread).
    private const int DenseLimit = 1 << 22;

    // Stands in for the dense table when there is none: entry 0 is never written, so every lookup misses.
    private static readonly byte[] NoDense = new byte[1];

    private readonly MyersPattern _pattern = new();
    private readonly DtwKnownCosts _known = new();
    private DtwTokenRegistry _registry = DtwTokenRegistry.Current;
    // Local id per registry id and side, valid where the stamp is this pair's.
    private int[] _pivotLocal = new int[1024];
    private int[] _pivotStamp = new int[1024];
    private int[] _sourceLocal = new int[1024];
    private int[] _sourceStamp = new int[1024];
    private int _stamp;
    // Per-pair numbering of comparison forms (equal forms: equal numbers), by form key, valid where stamped.
    private int[] _formLocal = new int[1024];
    private int[] _formStamp = new int[1024];
    private int _formCount;
    private DtwToken[] _pivots = new DtwToken[256];
    private DtwToken[] _sources = new DtwToken[256];
    private int _pivotCount;
    private int _sourceCount;
    private int _patternFor = -1;
    private byte[] _dense = [];
    private int _stride;
    private bool _isDense;

    /// <summary>True when the pair just begun has a dense table (<see cref="Dense"/>).</summary>
    public bool IsDense => _isDense;

    /// <summary>Entries per pivot token in <see cref="Dense"/>: the entry of a pair is at pivot * Stride + source.</summary>
    public int Stride => _stride;

    /// <summary>The dense table: cost + 1, 0 when not known yet, <see cref="Overflow"/> when too large.</summary>
    public byte[] Dense => _isDense ? _dense : NoDense;

    /// <summary>Distinct pivot tokens so far.</summary>
    public int PivotCount => _pivotCount;

    /// <summary>Distinct source tokens so far.</summary>
    public int SourceCount => _sourceCount;

    /// <summary>Forgets the previous pair and takes the tokens of <paramref name="registry"/>'s generation.</summary>
    public void Begin(DtwTokenRegistry registry)
    {
        if (_registry != registry)
        {
            // Registry ids restart with a new generation; stamps alone keep old locals from being read.
            _registry = registry;
        }
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_pivotStamp);
            Array.Clear(_sourceStamp);
            Array.Clear(_formStamp);
            _stamp = 1;
        }
        _pivotCount = 0;
        _sourceCount = 0;
        _formCount = 0;
        _patternFor = -1;
    }

    /// <summary>Local id of a pivot token of the registry given to <see cref="Begin"/>.</summary>
    public int InternPivot(DtwToken token) => Intern(token, ref _pivotLocal, ref _pivotStamp, ref _pivots, ref _pivotCount);

    /// <summary>Local id of a source token of the registry given to <see cref="Begin"/>.</summary>
    public int InternSource(DtwToken token) => Intern(token, ref _sourceLocal, ref _sourceStamp, ref _sources, ref _sourceCount);

    /// <summary>The pivot token of a local id.</summary>
    public DtwToken Pivot(int local) => _pivots[local];

    /// <summary>The source token of a local id.</summary>
    public DtwToken Source(int local) => _sources[local];

    /// <summary>
    /// A 16-bit number of the token's comparison form within this pair: tokens that compare equal (cost 0) get equal
    /// numbers. Past 32768 distinct forms numbers repeat, which only weakens the suffix bound (a shared number reads
    /// as cost 0), never breaks it.
    /// </summary>
    public short FormKey(DtwToken t)
    {
        // Stripped forms for ordinary tokens, unified forms (odd keys) for bare markers, as the cost compares them.
        var key = t.Length > 0 ? 2 * t.Class : 2 * t.UClass + 1;
        if (key >= _formStamp.Length)
        {
            var size = Math.Max(key + 1, 2 * _formStamp.Length);
            Array.Resize(ref _formStamp, size);
            Array.Resize(ref _formLocal, size);
        }
        if (_formStamp[key] != _stamp)
        {
            _formStamp[key] = _stamp;
            _formLocal[key] = _formCount++;
        }
        return (short)(_formLocal[key] & 0x7FFF);
    }

    /// <summary>Starts the dense table of the pair just interned, with the entries known without an edit distance
    /// (<see cref="DtwKnownCosts"/>) and the others unknown.</summary>
    public void BeginCosts()
    {
        var size = (long)_pivotCount * _sourceCount;
        _isDense = size <= DenseLimit;
        if (!_isDense)
        {
            _stride = 0;
            return;
        }
        _stride = _sourceCount;
        if (_dense.Length < size + DtwKnownCosts.Slack)
        {
            _dense = new byte[Math.Max(size, Math.Min(2L * _dense.Length, DenseLimit)) + DtwKnownCosts.Slack];
        }
        _known.Fill(this, _dense, _pivotCount, _sourceCount);
    }

    /// <summary>Distinct comparison forms numbered so far in this pair (<see cref="FormKey"/>).</summary>
    public int FormCount => _formCount;

    /// <summary>
    /// cost(pivot, source) by local ids, filling the dense table; <see cref="Infinity"/> instead when
    /// <paramref name="best"/> plus a cheap lower bound of the cost already exceeds <paramref name="bound"/>
    /// (the cell is pruned, and nothing is computed or stored).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public int Cost(int pivot, int source, int best, int bound)
    {
        var a = _pivots[pivot];
        var b = _sources[source];
        int v;
        if (ReferenceEquals(a, b))
        {
            v = 0;
        }
        else
        {
            var lower = DynamicTimeWarping.LowerBound(a, b);
            if (lower == 0)
            {
                // Equal comparison forms.
                v = 0;
            }
            else if (best + lower > bound)
            {
                return Infinity;
            }
            else if (!UseShared(a, b) || !_registry.Costs.TryGet(a.Id, b.Id, out v))
            {
                v = Compute(pivot, a, b, lower);
                if (UseShared(a, b))
                {
                    _registry.Costs.Set(a.Id, b.Id, v);
                }
            }
        }
        if (_isDense)
        {
            _dense[pivot * _stride + source] = (byte)Math.Min(v + 1, Overflow);
        }
        return v;
    }

    // Measured on real tokenizer pairs (bench/align): a probe into the shared table is a likely cache miss in memory
    // every thread writes, and costs more than the bit-parallel edit distance of tokens of up to 64 characters
    // with the row's pattern already built (sending every pair through it made the cold bench 2x slower). Only
    // longer strings, whose distance is a quadratic DP or a long scan, go through it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool UseShared(DtwToken a, DtwToken b) => a.Length > SharedAbove || b.Length > SharedAbove;

    /// <summary>Tokens longer than this (stripped) have their costs kept in the shared table.</summary>
    internal const int SharedAbove = 64;

    private int Compute(int pivot, DtwToken a, DtwToken b, int lower)
    {
        var unified = a.Length == 0 || b.Length == 0;
        ReadOnlySpan<char> x = unified ? a.Unified : a.Stripped, y = unified ? b.Unified : b.Stripped;
        // Exact without a DP: the distance never exceeds the longer length (substitute, then insert or delete), so a
        // lower bound that reaches it is the distance (no character of one can match one of the other); and against a
        // single character c it is the other's length, less one when c occurs in it.
        var longer = Math.Max(x.Length, y.Length);
        if (lower >= longer)
        {
            return longer;
        }
        if (x.Length == 1)
        {
            return longer - (y.Contains(x[0]) ? 1 : 0);
        }
        if (y.Length == 1)
        {
            return longer - (x.Contains(y[0]) ? 1 : 0);
        }
        if (unified)
        {
            return EditDistance.Compute(x, y);
        }
        if (_patternFor != pivot)
        {
            _pattern.Set(a.Stripped);
            _patternFor = pivot;
        }
        return _pattern.Distance(b.Stripped);
    }

    private int Intern(DtwToken t, ref int[] localOf, ref int[] stampOf, ref DtwToken[] tokens, ref int count)
    {
        var id = t.Id;
        if (id >= localOf.Length)
        {
            var size = Math.Max(id + 1, 2 * localOf.Length);
            Array.Resize(ref localOf, size);
            Array.Resize(ref stampOf, size);
        }
        if (stampOf[id] == _stamp)
        {
            return localOf[id];
        }
        stampOf[id] = _stamp;
        if (count == tokens.Length)
        {
            Array.Resize(ref tokens, 2 * tokens.Length);
        }
        tokens[count] = t;
        return localOf[id] = count++;
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

    // Per position: local id, dense-table key (pivot: row offset, source: column), string length.
    public int[] PLocal { get; private set; } = [];
    public int[] PKey { get; private set; } = [];
    public int[] PLength { get; private set; } = [];
    public int[] SLocal { get; private set; } = [];
    public int[] SKey { get; private set; } = [];
    public int[] SLength { get; private set; } = [];

    // Kept cells of the pruned matrix; per row its first and end column and where its first column is stored.
    public int[] Band { get; private set; } = new int[1 << 16];
    public int[] RowLo { get; private set; } = [];
    public int[] RowEnd { get; private set; } = [];
    public int[] RowAt { get; private set; } = [];

    // The suffix bound's attributes per distinct token of one side (by local id), copied from there to positions.
    public SuffixBoundTokens DistinctBound { get; } = new();

    // The suffix bound: the pivot's and the reversed source's tokens, H in strips (SuffixLowerBound), each row's base
    // and the stride between a row's consecutive cells: H(i, j) = Bound[BoundRowBase[i] + (i + j) * BoundStride].
    public SuffixBoundTokens PivotBound { get; } = new();
    public SuffixBoundTokens SourceBound { get; } = new();
    public short[] Bound { get; private set; } = [];
    public int[] BoundRowBase { get; private set; } = [];
    public int BoundStride { get; private set; }

    // All zero, with stride 0: H = 0 and every remaining bound 0, for pairs too large for H.
    private readonly short[] _zeroBound = new short[2];
    private int[] _zeroRowBase = new int[1];

    /// <summary>Sizes the suffix bound's arrays for an n x m pair.</summary>
    public void EnsureSuffixBound(int n, int m)
    {
        PivotBound.Ensure(n);
        SourceBound.Ensure(m);
        if (BoundRowBase.Length < n || BoundRowBase == _zeroRowBase)
        {
            BoundRowBase = new int[n];
        }
        var slots = SuffixLowerBound.Slots(n, m);
        if (Bound.Length < slots || Bound == _zeroBound)
        {
            Bound = new short[slots];
        }
        BoundStride = SuffixLowerBound.Stride;
    }

    /// <summary>Points the bound at zeros (no pruning beyond D &lt;= UB) for a pair of n pivot tokens.</summary>
    public void UseNoSuffixBound(int n)
    {
        if (_zeroRowBase.Length < n)
        {
            _zeroRowBase = new int[n];
        }
        Bound = _zeroBound;
        BoundRowBase = _zeroRowBase;
        BoundStride = 0;
    }

    // The backtracked path, written from the end.
    private int[] _pathPivots = [];
    private int[] _pathSources = [];

    /// <summary>Room for a path of <paramref name="cells"/> cells.</summary>
    public (int[] Pivots, int[] Sources) EnsurePath(int cells)
    {
        if (_pathPivots.Length < cells)
        {
            _pathPivots = new int[cells];
            _pathSources = new int[cells];
        }
        return (_pathPivots, _pathSources);
    }

    // Rolling rows of the banded upper-bound pass.
    public int[] RowA { get; private set; } = [];
    public int[] RowB { get; private set; } = [];

    public static DtwWorkspace Rent(int n, int m)
    {
        var w = t_cached ?? new DtwWorkspace();
        t_cached = null;
        if (w.PLocal.Length < n)
        {
            w.PLocal = new int[n];
            w.PKey = new int[n];
            w.PLength = new int[n];
            w.RowLo = new int[n];
            w.RowEnd = new int[n];
            w.RowAt = new int[n];
        }
        if (w.SLocal.Length < m)
        {
            w.SLocal = new int[m];
            w.SKey = new int[m];
            w.SLength = new int[m];
            w.RowA = new int[m + 1];
            w.RowB = new int[m + 1];
        }
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
        if (w.Bound.Length > KeepLimit)
        {
            w.Bound = [];
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
