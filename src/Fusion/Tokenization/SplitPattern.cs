using System.Text.RegularExpressions;

namespace FuseChat.Fusion.Tokenization;

/// <summary>Finds the non-overlapping matches of a Split pre-tokenizer pattern, left to right.</summary>
internal abstract class SplitPattern
{
    /// <summary>The Llama-3 / GPT-4 (cl100k) pre-tokenizer regex as written in tokenizer.json.</summary>
    public const string Cl100kRegex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The Qwen2/Qwen3 regex: cl100k with single digits.</summary>
    public const string QwenRegex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The GPT-2 regex used by the ByteLevel pre-tokenizer when use_regex is true.</summary>
    public const string Gpt2Regex = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Appends (start, end) of every match in <paramref name="text"/> to <paramref name="matches"/>.</summary>
    public abstract void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End)> matches);

    /// <summary>Builds the fastest exact matcher for a regex from tokenizer.json.</summary>
    public static SplitPattern ForRegex(string pattern)
    {
        // The well-known patterns get hand-written scanners: they are faster and, unlike .NET's
        // UTF-16 regex, treat astral-plane letters and digits as Oniguruma does.
        return pattern switch
        {
            Cl100kRegex => new WordScanner(WordScanner.Mode.Cl100k, 3),
            QwenRegex => new WordScanner(WordScanner.Mode.Cl100k, 1),
            Gpt2Regex => new WordScanner(WordScanner.Mode.Gpt2, 0),
            _ => new RegexPattern(pattern),
        };
    }

    /// <summary>A literal string delimiter (tokenizer.json "String" patterns).</summary>
    public static SplitPattern ForLiteral(string literal) => new LiteralPattern(literal);

    private sealed class LiteralPattern(string literal) : SplitPattern
    {
        public override void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End)> matches)
        {
            if (literal.Length == 0)
            {
                return;
            }

            var offset = 0;
            while (offset < text.Length)
            {
                var found = text[offset..].IndexOf(literal.AsSpan(), StringComparison.Ordinal);
                if (found < 0)
                {
                    break;
                }

                matches.Add((offset + found, offset + found + literal.Length));
                offset += found + literal.Length;
            }
        }
    }

    /// <summary>
    /// Any other pattern: .NET's compiled regex, exact on text without surrogates. .NET matches UTF-16 units, so
    /// \p{..} and \d miss astral-plane letters, digits and marks that Oniguruma (HF) matches; text with a surrogate
    /// goes through <see cref="CodePointRegex"/> instead, which matches code points (slower, and rare in chats).
    /// Patterns outside its subset keep .NET's regex for all text.
    /// </summary>
    private sealed class RegexPattern(string pattern) : SplitPattern
    {
        private readonly Regex regex = new(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        private readonly CodePointRegex? codePoints = TryCodePoints(pattern);

        public override void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End)> matches)
        {
            if (codePoints is not null && text.IndexOfAnyInRange('\uD800', '\uDFFF') >= 0)
            {
                codePoints.FindMatches(text, matches);
                return;
            }

            foreach (var match in regex.EnumerateMatches(text))
            {
                if (match.Length > 0)
                {
                    matches.Add((match.Index, match.Index + match.Length));
                }
            }
        }

        private static CodePointRegex? TryCodePoints(string pattern)
        {
            try
            {
                return CodePointRegex.Parse(pattern);
            }
            catch (NotSupportedException)
            {
                return null;
            }
        }
    }
}
