using System.Buffers;

namespace FuseChat.Fusion.Alignment;

/// <summary>Levenshtein distance (unit cost insert, delete, substitute) over UTF-16 code units.</summary>
public static class EditDistance
{
    // Token strings are short; above this a pooled row replaces the stack row.
    private const int StackRowLimit = 256;

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
