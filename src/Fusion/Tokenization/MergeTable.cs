using System.Runtime.CompilerServices;

namespace FuseChat.Fusion.Tokenization;

/// <summary>
/// Open-addressing map from a token-id pair to (merge rank, merged id). Looked up for every
/// adjacent pair in every BPE step, so it avoids Dictionary's indirections and tuple hashing.
/// </summary>
internal sealed class MergeTable
{
    private readonly long[] _keys;
    private readonly long[] _values;
    private readonly int _mask;

    public MergeTable(int capacityHint)
    {
        var size = 16;
        while (size < capacityHint * 2)
        {
            size <<= 1;
        }

        _keys = new long[size];
        _values = new long[size];
        Array.Fill(_keys, -1L);
        _mask = size - 1;
    }

    /// <summary>Adds a merge unless the pair already has one (the first, lowest-ranked merge wins as in HF).</summary>
    public void Add(int left, int right, int rank, int mergedId)
    {
        var key = Key(left, right);
        var slot = Slot(key);
        while (_keys[slot] != -1L)
        {
            if (_keys[slot] == key)
            {
                return;
            }

            slot = (slot + 1) & _mask;
        }

        _keys[slot] = key;
        _values[slot] = ((long)rank << 32) | (uint)mergedId;
    }

    /// <summary>Returns false when the pair has no merge.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int left, int right, out int rank, out int mergedId)
    {
        var key = Key(left, right);
        var slot = Slot(key);
        while (true)
        {
            var k = _keys[slot];
            if (k == key)
            {
                var v = _values[slot];
                rank = (int)(v >> 32);
                mergedId = (int)(uint)v;
                return true;
            }

            if (k == -1L)
            {
                rank = int.MaxValue;
                mergedId = -1;
                return false;
            }

            slot = (slot + 1) & _mask;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(long key) => (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15UL)) >> 32) & _mask;
}
