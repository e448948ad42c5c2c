using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// A pattern prepared once for many edit distances against it (Myers/Hyyrö bit-parallel Levenshtein, pattern of
/// up to 64 UTF-16 code units in one word): DTW compares one pivot token with many source tokens in a row, so
/// the per-character match masks are built once per row instead of once per cell. Longer patterns fall back to
/// <see cref="EditDistance.Compute(ReadOnlySpan{char}, ReadOnlySpan{char})"/>. Not thread-safe.
/// </summary>
internal sealed class MyersPattern
{
    private readonly ulong[] _ascii = new ulong[128];
    private readonly char[] _otherChars = new char[64];
    private readonly ulong[] _otherMasks = new ulong[64];
    private int _others;
    private string _pattern = "";

    /// <summary>The current pattern.</summary>
    public string Pattern => _pattern;

    /// <summary>Makes <paramref name="pattern"/> the pattern.</summary>
    public void Set(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        // Only the entries the old pattern set are non-zero: resetting those keeps this O(pattern length).
        if (_pattern.Length <= 64)
        {
            foreach (var c in _pattern)
            {
                if (c < 128)
                {
                    _ascii[c] = 0;
                }
            }
        }
        _others = 0;
        _pattern = pattern;
        if (pattern.Length > 64)
        {
            return;
        }
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            var bit = 1UL << i;
            if (c < 128)
            {
                _ascii[c] |= bit;
                continue;
            }
            var k = _otherChars.AsSpan(0, _others).IndexOf(c);
            if (k < 0)
            {
                _otherChars[_others] = c;
                _otherMasks[_others++] = bit;
            }
            else
            {
                _otherMasks[k] |= bit;
            }
        }
    }

    /// <summary>Edit distance between the pattern and <paramref name="text"/>, equal to <see cref="EditDistance.Compute(ReadOnlySpan{char}, ReadOnlySpan{char})"/>.</summary>
    // Not inlined: inlined into the DTW's cost lookup the loop ran out of registers and kept its bit vectors on the
    // stack (seen in the JIT's code), doubling the time per character.
    [MethodImpl(MethodImplOptions.NoInlining)]
    public int Distance(ReadOnlySpan<char> text)
    {
        var m = _pattern.Length;
        if (m == 0)
        {
            return text.Length;
        }
        if (m > 64)
        {
            return EditDistance.Compute(_pattern.AsSpan(), text);
        }
        ref var ascii = ref MemoryMarshal.GetArrayDataReference(_ascii);
        ulong pv = ~0UL, mv = 0;
        foreach (var c in text)
        {
            var eq = c < 128 ? Unsafe.Add(ref ascii, c) : Other(c);
            var xv = eq | mv;
            var xh = (((eq & pv) + pv) ^ pv) | eq;
            var ph = mv | ~(xh | pv);
            var mh = pv & xh;
            ph = (ph << 1) | 1;
            mh <<= 1;
            pv = mh | ~(xv | ph);
            mv = ph & xv;
        }
        // The last column's vertical deltas sum to D(m, n) - D(0, n), and D(0, n) = n: the score needs no update per
        // character.
        var rows = m == 64 ? ~0UL : (1UL << m) - 1;
        return text.Length + BitOperations.PopCount(pv & rows) - BitOperations.PopCount(mv & rows);
    }

    // Match mask of a character outside ASCII (a short linear list: tokens hold few of them).
    private ulong Other(char c)
    {
        var k = _otherChars.AsSpan(0, _others).IndexOf(c);
        return k < 0 ? 0 : _otherMasks[k];
    }
}
