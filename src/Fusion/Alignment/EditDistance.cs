using System.Buffers;
using System.Runtime.CompilerServices;

namespace FuseChat.Fusion.Alignment;

/// <summary>Levenshtein distance (unit cost insert, delete, substitute) over UTF-16 code units.</summary>
public static class EditDistance
{
    // Token strings are short; above this a pooled row replaces the stack row.
    private const int StackRowLimit = 256;

    [ThreadStatic]
    private static ulong[]? t_ascii;

    /// <summary>Edit distance between two strings.</summary>
    public static int Compute(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return Compute(a.AsSpan(), b.AsSpan());
    }

    /// <summary>Edit distance between two character spans; allocation-free for spans up to 256 characters.</summary>
    public static int Compute(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        // Common prefix and suffix never change the distance and are cheap to drop; tokens that differ
        // by a piece ("fusion" / "fus") then cost only the piece.
        var prefix = a.CommonPrefixLength(b);
        a = a[prefix..];
        b = b[prefix..];
        var suffix = 0;
        while (suffix < a.Length && suffix < b.Length && a[a.Length - 1 - suffix] == b[b.Length - 1 - suffix])
        {
            suffix++;
        }
        a = a[..^suffix];
        b = b[..^suffix];
        if (a.Length > b.Length)
        {
            var t = a;
            a = b;
            b = t;
        }
        if (a.Length == 0)
        {
            return b.Length;
        }
        if (a.Length == 1)
        {
            // One character against many: substitute it somewhere, or keep it if b contains it.
            return b.Contains(a[0]) ? b.Length - 1 : b.Length;
        }
        if (a.Length <= 64)
        {
            return BitParallel(a, b);
        }
        if (a.Length + 1 <= StackRowLimit)
        {
            Span<int> row = stackalloc int[a.Length + 1];
            return Run(a, b, row);
        }
        var rented = ArrayPool<int>.Shared.Rent(a.Length + 1);
        try
        {
            return Run(a, b, rented.AsSpan(0, a.Length + 1));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>Classic one-row dynamic programming; the reference the bit-parallel path is tested against.</summary>
    internal static int Classic(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        if (a.Length > b.Length)
        {
            var t = a;
            a = b;
            b = t;
        }
        var rented = ArrayPool<int>.Shared.Rent(a.Length + 1);
        try
        {
            return Run(a, b, rented.AsSpan(0, a.Length + 1));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Myers/Hyyrö bit-parallel Levenshtein distance, pattern <paramref name="a"/> of 1 to 64 UTF-16 code units in
    /// one 64-bit word: O(|b|) word operations. Any code unit, non-ASCII included, is matched exactly.
    /// </summary>
    [SkipLocalsInit]
    internal static int BitParallel(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        // Peq: for each character, the positions of a holding it. ASCII in a per-thread table that is all zero
        // between calls (the entries set here are reset before returning), others in a short list.
        var ascii = t_ascii ??= new ulong[128];
        Span<char> otherChars = stackalloc char[a.Length];
        Span<ulong> otherMasks = stackalloc ulong[a.Length];
        var others = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var c = a[i];
            var bit = 1UL << i;
            if (c < 128)
            {
                ascii[c] |= bit;
                continue;
            }
            var k = otherChars[..others].IndexOf(c);
            if (k < 0)
            {
                otherChars[others] = c;
                otherMasks[others++] = bit;
            }
            else
            {
                otherMasks[k] |= bit;
            }
        }
        ulong pv = ~0UL, mv = 0;
        var score = a.Length;
        var last = 1UL << (a.Length - 1);
        foreach (var c in b)
        {
            ulong eq;
            if (c < 128)
            {
                eq = ascii[c];
            }
            else
            {
                var k = otherChars[..others].IndexOf(c);
                eq = k < 0 ? 0 : otherMasks[k];
            }
            var xv = eq | mv;
            var xh = (((eq & pv) + pv) ^ pv) | eq;
            var ph = mv | ~(xh | pv);
            var mh = pv & xh;
            if ((ph & last) != 0)
            {
                score++;
            }
            else if ((mh & last) != 0)
            {
                score--;
            }
            ph = (ph << 1) | 1;
            mh <<= 1;
            pv = mh | ~(xv | ph);
            mv = ph & xv;
        }
        foreach (var c in a)
        {
            if (c < 128)
            {
                ascii[c] = 0;
            }
        }
        return score;
    }

    // One row over the shorter string a, swept along b.
    private static int Run(ReadOnlySpan<char> a, ReadOnlySpan<char> b, Span<int> row)
    {
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = i;
        }
        for (var j = 0; j < b.Length; j++)
        {
            var diagonal = row[0];
            row[0] = j + 1;
            var bj = b[j];
            for (var i = 1; i < row.Length; i++)
            {
                var above = row[i];
                var value = a[i - 1] == bj ? diagonal : Math.Min(Math.Min(diagonal, above), row[i - 1]) + 1;
                diagonal = above;
                row[i] = value;
            }
        }
        return row[^1];
    }
}
