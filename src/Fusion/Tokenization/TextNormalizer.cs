using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FuseChat.Fusion.Tokenization;

/// <summary>A tokenizer.json normalizer: rewrites a text segment before pre-tokenization.</summary>
internal abstract class TextNormalizer
{
    /// <summary>Returns the normalized text (the same instance when nothing changes).</summary>
    public abstract string Normalize(string text);

    /// <summary>
    /// Normalizes and gives, for each normalized char, the range [Start, End) of <paramref name="text"/>
    /// it comes from (the offsets path; slower than <see cref="Normalize(string)"/>). Inserted chars
    /// take the range of the char they are inserted before, as Hugging Face's NormalizedString::prepend does.
    /// </summary>
    public abstract string Normalize(string text, out (int Start, int End)[] alignment);

    protected static (int Start, int End)[] Identity(int length)
    {
        var alignment = new (int Start, int End)[length];
        for (var i = 0; i < length; i++)
        {
            alignment[i] = (i, i + 1);
        }

        return alignment;
    }

    /// <summary>Alignment of a normalizer applied after another: ranges of the final text in the first text.</summary>
    public static (int Start, int End)[] Compose((int Start, int End)[] first, (int Start, int End)[] second)
    {
        var result = new (int Start, int End)[second.Length];
        for (var k = 0; k < second.Length; k++)
        {
            var (s, e) = second[k];
            if (e <= s)
            {
                var at = first.Length == 0 ? 0 : first[Math.Min(s, first.Length - 1)].Start;
                result[k] = (at, at);
                continue;
            }

            int start = int.MaxValue, end = int.MinValue;
            for (var j = s; j < e; j++)
            {
                start = Math.Min(start, first[j].Start);
                end = Math.Max(end, first[j].End);
            }

            result[k] = (start, end);
        }

        return result;
    }
}

/// <summary>NFC / NFD / NFKC / NFKD.</summary>
internal sealed class UnicodeFormNormalizer(NormalizationForm form) : TextNormalizer
{
    public override string Normalize(string text)
    {
        // ASCII is invariant under every normalization form.
        return Ascii.IsValid(text) ? text : UnicodeNormalization.Normalize(text, form);
    }

    public override string Normalize(string text, out (int Start, int End)[] alignment)
    {
        var normalized = Normalize(text);
        if (string.Equals(normalized, text, StringComparison.Ordinal))
        {
            alignment = Identity(text.Length);
            return normalized;
        }

        // Normalization acts within a starter and the combining marks (or Hangul jamo) after it,
        // so each such cluster is normalized alone. Inside a cluster, output char k takes input
        // char k's range (the last input char's when the output is longer), as HF's alignment
        // does: a composed "e\u0301" maps to the "e" only.
        var builder = new StringBuilder(normalized.Length);
        var ranges = new List<(int Start, int End)>(normalized.Length);
        var inputChars = new List<(int Start, int End)>();
        for (var i = 0; i < text.Length;)
        {
            var start = i;
            inputChars.Clear();
            inputChars.Add((i, i + Width(text, i)));
            i += Width(text, i);
            while (i < text.Length && IsCombining(text, i))
            {
                inputChars.Add((i, i + Width(text, i)));
                i += Width(text, i);
            }

            var cluster = UnicodeNormalization.Normalize(text[start..i], form);
            builder.Append(cluster);
            for (int k = 0, n = 0; k < cluster.Length; n++)
            {
                var range = inputChars[Math.Min(n, inputChars.Count - 1)];
                var width = Width(cluster, k);
                for (var w = 0; w < width; w++)
                {
                    ranges.Add(range);
                }

                k += width;
            }
        }

        if (!builder.Equals(normalized.AsSpan()))
        {
            // Composition across clusters (e.g. Hangul jamo): no finer mapping than the whole text.
            alignment = new (int Start, int End)[normalized.Length];
            Array.Fill(alignment, (0, text.Length));
            return normalized;
        }

        alignment = [.. ranges];
        return normalized;
    }

    private static int Width(string text, int i) =>
        char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;

    private static bool IsCombining(string text, int i)
    {
        var category = CharUnicodeInfo.GetUnicodeCategory(text, i);
        var c = text[i];
        return category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            || (c >= '\u1160' && c <= '\u11FF');
    }
}

/// <summary>Prepends a string to non-empty segments (Llama-2's "▁").</summary>
internal sealed class PrependNormalizer(string prefix) : TextNormalizer
{
    public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;

    public override string Normalize(string text, out (int Start, int End)[] alignment)
    {
        if (text.Length == 0)
        {
            alignment = [];
            return text;
        }

        // The prefix has no source char: it takes the first char's range (HF does the same).
        var first = char.IsHighSurrogate(text[0]) && text.Length > 1 && char.IsLowSurrogate(text[1]) ? 2 : 1;
        alignment = new (int Start, int End)[prefix.Length + text.Length];
        for (var i = 0; i < prefix.Length; i++)
        {
            alignment[i] = (0, first);
        }

        for (var i = 0; i < text.Length; i++)
        {
            alignment[prefix.Length + i] = (i, i + 1);
        }

        return prefix + text;
    }
}

/// <summary>Replaces a literal or regex pattern.</summary>
internal sealed class ReplaceNormalizer : TextNormalizer
{
    private readonly string? _literal;
    private readonly Regex? _regex;
    private readonly string _content;

    public ReplaceNormalizer(string? literal, Regex? regex, string content)
    {
        _literal = literal;
        _regex = regex;
        _content = content;
    }

    public override string Normalize(string text)
    {
        if (_regex is not null)
        {
            return _regex.Replace(text, _content.Replace("$", "$$", StringComparison.Ordinal));
        }

        return _literal!.Length == 0 || !text.Contains(_literal, StringComparison.Ordinal)
            ? text
            : text.Replace(_literal, _content, StringComparison.Ordinal);
    }

    public override string Normalize(string text, out (int Start, int End)[] alignment)
    {
        var matches = new List<(int Start, int End)>();
        if (_regex is not null)
        {
            foreach (Match m in _regex.Matches(text))
            {
                matches.Add((m.Index, m.Index + m.Length));
            }
        }
        else if (_literal!.Length > 0)
        {
            for (var at = text.IndexOf(_literal, StringComparison.Ordinal); at >= 0; at = text.IndexOf(_literal, at + _literal.Length, StringComparison.Ordinal))
            {
                matches.Add((at, at + _literal.Length));
            }
        }

        var builder = new StringBuilder(text.Length);
        var ranges = new List<(int Start, int End)>(text.Length);
        var position = 0;
        foreach (var (start, end) in matches)
        {
            for (; position < start; position++)
            {
                builder.Append(text[position]);
                ranges.Add((position, position + 1));
            }

            // Same-length replacements (" " -> "▁") map char to char; otherwise to the whole match.
            for (var k = 0; k < _content.Length; k++)
            {
                builder.Append(_content[k]);
                ranges.Add(_content.Length == end - start ? (start + k, start + k + 1) : (start, Math.Max(end, start + 1)));
            }

            position = end;
        }

        for (; position < text.Length; position++)
        {
            builder.Append(text[position]);
            ranges.Add((position, position + 1));
        }

        alignment = [.. ranges];
        return builder.ToString();
    }
}

/// <summary>Lower-cases (Unicode, culture-invariant, as Rust's to_lowercase).</summary>
internal sealed class LowercaseNormalizer : TextNormalizer
{
    public override string Normalize(string text) => text.ToLowerInvariant();

    public override string Normalize(string text, out (int Start, int End)[] alignment)
    {
        var lower = text.ToLowerInvariant();
        if (lower.Length == text.Length)
        {
            alignment = Identity(text.Length);
        }
        else
        {
            alignment = new (int Start, int End)[lower.Length];
            Array.Fill(alignment, (0, text.Length));
        }

        return lower;
    }
}

/// <summary>Strips whitespace at either end.</summary>
internal sealed class StripNormalizer(bool left, bool right) : TextNormalizer
{
    public override string Normalize(string text) =>
        left && right ? text.Trim() : left ? text.TrimStart() : right ? text.TrimEnd() : text;

    public override string Normalize(string text, out (int Start, int End)[] alignment)
    {
        var start = 0;
        var end = text.Length;
        while (left && start < end && char.IsWhiteSpace(text[start]))
        {
            start++;
        }

        while (right && end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }

        alignment = new (int Start, int End)[end - start];
        for (var i = start; i < end; i++)
        {
            alignment[i - start] = (i, i + 1);
        }

        return text[start..end];
    }
}

/// <summary>Applies normalizers in order.</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<TextNormalizer> normalizers) : TextNormalizer
{
    public override string Normalize(string text)
    {
        foreach (var normalizer in normalizers)
        {
            text = normalizer.Normalize(text);
        }

        return text;
    }

    public override string Normalize(string text, out (int Start, int End)[] alignment)
    {
        alignment = Identity(text.Length);
        foreach (var normalizer in normalizers)
        {
            text = normalizer.Normalize(text, out var step);
            alignment = Compose(alignment, step);
        }

        return text;
    }
}
