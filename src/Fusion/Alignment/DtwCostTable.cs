using System.Runtime.CompilerServices;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Process-wide cache of token costs keyed by (pivot token id, source token id) of one
/// <see cref="DtwTokenRegistry"/> generation. Bounded: <see cref="Shards"/> open-addressing shards of
/// <see cref="ShardSize"/> 8-byte entries, allocated on first use, so at most <see cref="MaxBytes"/> (64 MiB).
/// </summary>
/// <remarks>
/// Thread-safe without locks: an entry is one 64-bit word (key and cost together), written and read atomically,
/// so a reader sees either nothing or a whole, correct entry. Racing writers can only lose entries (a cache
/// miss later), never mix them. A shard that reaches 3/4 load is cleared in place: probes stay short and the
/// memory never grows; the entries lost are recomputed on demand.
/// </remarks>
internal sealed class DtwCostTable
{
    /// <summary>Number of shards.</summary>
    public const int Shards = 64;

    /// <summary>Entries per shard.</summary>
    public const int ShardSize = 1 << 17;

    /// <summary>Upper bound of the memory the table can hold: <see cref="Shards"/> * <see cref="ShardSize"/> * 8 bytes.</summary>
    public const long MaxBytes = (long)Shards * ShardSize * sizeof(ulong);

    /// <summary>Ids must fit in 28 bits each, so that key and cost share one word.</summary>
    public const int IdLimit = 1 << 28;

    /// <summary>Costs above this are not cached (one byte per cost).</summary>
    public const int MaxCost = 255;

    private const int ProbeLimit = 32;
    private const int ClearAt = ShardSize / 4 * 3;
    // Counters one cache line apart: shards are hit from every core.
    private const int CountStride = 16;

    private readonly ulong[]?[] _shards = new ulong[Shards][];
    private readonly int[] _counts = new int[Shards * CountStride];
    private long _clears;

    /// <summary>Bytes allocated so far (never above <see cref="MaxBytes"/>).</summary>
    public long AllocatedBytes
    {
        get
        {
            long total = 0;
            for (var s = 0; s < Shards; s++)
            {
                total += Volatile.Read(ref _shards[s]) is null ? 0 : (long)ShardSize * sizeof(ulong);
            }
            return total;
        }
    }

    /// <summary>Shards cleared because they filled up.</summary>
    public long Clears => Interlocked.Read(ref _clears);

    /// <summary>Entries currently counted in all shards (approximate under concurrency).</summary>
    public long Count
    {
        get
        {
            long total = 0;
            for (var s = 0; s < Shards; s++)
            {
                total += Volatile.Read(ref _counts[s * CountStride]);
            }
            return total;
        }
    }

    /// <summary>The cached cost of a pair of token ids (both 1 .. <see cref="IdLimit"/> - 1), if any.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int pivot, int source, out int cost)
    {
        var key = Key(pivot, source);
        var h = Hash(key);
        var shard = Volatile.Read(ref _shards[h >> 58]);
        if (shard is not null && key != 0)
        {
            var at = (int)(h >> 20);
            for (var k = 0; k < ProbeLimit; k++)
            {
                var e = shard[(at + k) & (ShardSize - 1)];
                if (e == 0)
                {
                    break;
                }
                if (e >> 8 == key)
                {
                    cost = (int)(e & 0xFF);
                    return true;
                }
            }
        }
        cost = 0;
        return false;
    }

    /// <summary>Caches the cost of a pair of token ids; ignored when the ids or the cost do not fit.</summary>
    public void Set(int pivot, int source, int cost)
    {
        var key = Key(pivot, source);
        if (key == 0 || (uint)cost > MaxCost)
        {
            return;
        }
        var h = Hash(key);
        var index = (int)(h >> 58);
        var shard = Volatile.Read(ref _shards[index]) ?? Allocate(index);
        var entry = (key << 8) | (uint)cost;
        var at = (int)(h >> 20);
        for (var k = 0; k < ProbeLimit; k++)
        {
            ref var e = ref shard[(at + k) & (ShardSize - 1)];
            var old = Volatile.Read(ref e);
            if (old == 0)
            {
                Volatile.Write(ref e, entry);
                if (Interlocked.Increment(ref _counts[index * CountStride]) == ClearAt)
                {
                    Array.Clear(shard);
                    Volatile.Write(ref _counts[index * CountStride], 0);
                    Interlocked.Increment(ref _clears);
                }
                return;
            }
            if (old >> 8 == key)
            {
                return;
            }
        }
        // A long probe run: dropping the entry is cheaper than growing, and only costs a recomputation.
    }

    // 0 for ids out of range: no entry ever has key 0, so such pairs always miss.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(int pivot, int source) =>
        (uint)(pivot - 1) < IdLimit - 1 && (uint)(source - 1) < IdLimit - 1 ? ((ulong)pivot << 28) | (uint)source : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hash(ulong key) => key * 0x9E3779B97F4A7C15UL;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong[] Allocate(int index)
    {
        var fresh = new ulong[ShardSize];
        return Interlocked.CompareExchange(ref _shards[index], fresh, null) ?? fresh;
    }
}
