using System.Text;
using System.Text.RegularExpressions;

namespace FuseChat.Fusion.Tokenization;

/// <summary>A tokenizer.json normalizer: rewrites a text segment before pre-tokenization.</summary>
internal abstract class TextNormalizer
{
    /// <summary>Returns the normalized text (the same instance when nothing changes).</summary>
    public abstract string Normalize(string text);
}

/// <summary>NFC / NFD / NFKC / NFKD.</summary>
internal sealed class UnicodeFormNormalizer(NormalizationForm form) : TextNormalizer
{
    public override string Normalize(string text)
    {
        // ASCII is invariant under every normalization form.
        return Ascii.IsValid(text) ? text : UnicodeNormalization.Normalize(text, form);
    }
}

/// <summary>Prepends a string to non-empty segments (Llama-2's "▁").</summary>
internal sealed class PrependNormalizer(string prefix) : TextNormalizer
{
    public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;
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
}

/// <summary>Lower-cases (Unicode, culture-invariant, as Rust's to_lowercase).</summary>
internal sealed class LowercaseNormalizer : TextNormalizer
{
    public override string Normalize(string text) => text.ToLowerInvariant();
}

/// <summary>Strips whitespace at either end.</summary>
internal sealed class StripNormalizer(bool left, bool right) : TextNormalizer
{
    public override string Normalize(string text) =>
        left && right ? text.Trim() : left ? text.TrimStart() : right ? text.TrimEnd() : text;
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
}
