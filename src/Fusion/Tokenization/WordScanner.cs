namespace FuseChat.Fusion.Tokenization;

/// <summary>
/// Hand-written equivalent of the GPT-2 and cl100k (Llama-3, Qwen) pre-tokenizer regexes, following
/// the regex's alternation order and backtracking exactly, on code points rather than UTF-16 units.
/// </summary>
internal sealed class WordScanner(WordScanner.Mode mode, int maxDigits) : SplitPattern
{
    /// <summary>Which regex is emulated.</summary>
    public enum Mode
    {
        /// <summary>cl100k: case-insensitive contractions, letters with one optional leading non-letter, digit groups.</summary>
        Cl100k,

        /// <summary>GPT-2: case-sensitive contractions, optional leading space per class.</summary>
        Gpt2,
    }

    public override void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End)> matches)
    {
        var i = 0;
        while (i < text.Length)
        {
            var end = mode == Mode.Cl100k ? MatchCl100k(text, i) : MatchGpt2(text, i);
            matches.Add((i, end));
            i = end;
        }
    }

    private int MatchCl100k(ReadOnlySpan<char> s, int i)
    {
        var n = s.Length;
        var c = s[i];

        // (?i:'s|'t|'re|'ve|'m|'ll|'d); U+017F folds to 's' under Oniguruma's case folding.
        if (c == '\'' && i + 1 < n)
        {
            var a = s[i + 1];
            if (a is 's' or 'S' or '\u017F' or 't' or 'T' or 'm' or 'M' or 'd' or 'D')
            {
                return i + 2;
            }

            if (i + 2 < n)
            {
                var b = s[i + 2];
                if ((a is 'r' or 'R' or 'v' or 'V') && b is 'e' or 'E')
                {
                    return i + 3;
                }

                if (a is 'l' or 'L' && b is 'l' or 'L')
                {
                    return i + 3;
                }
            }
        }

        var f0 = UnicodeClass.At(s, i, out var w0);

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if ((f0 & UnicodeClass.Letter) != 0)
        {
            return EndOf(s, i, UnicodeClass.Letter);
        }

        if (c != '\r' && c != '\n' && (f0 & UnicodeClass.Number) == 0 && i + w0 < n
            && (UnicodeClass.At(s, i + w0, out _) & UnicodeClass.Letter) != 0)
        {
            return EndOf(s, i + w0, UnicodeClass.Letter);
        }

        // \p{N}{1,maxDigits}
        if ((f0 & UnicodeClass.Number) != 0)
        {
            var j = i;
            for (var k = 0; k < maxDigits && j < n; k++)
            {
                if ((UnicodeClass.At(s, j, out var w) & UnicodeClass.Number) == 0)
                {
                    break;
                }

                j += w;
            }

            return j;
        }

        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        if (c == ' ' && i + 1 < n && UnicodeClass.At(s, i + 1, out _) == 0)
        {
            return SkipNewlines(s, EndOfOther(s, i + 1));
        }

        if (f0 == 0)
        {
            return SkipNewlines(s, EndOfOther(s, i));
        }

        // Whitespace from here on. \s*[\r\n]+ ends just after the run's last newline.
        var runEnd = EndOf(s, i, UnicodeClass.Space);
        for (var k = runEnd - 1; k >= i; k--)
        {
            if (s[k] is '\r' or '\n')
            {
                return k + 1;
            }
        }

        return WhitespaceRun(i, runEnd, n);
    }

    private static int MatchGpt2(ReadOnlySpan<char> s, int i)
    {
        var n = s.Length;
        var c = s[i];
        if (c == '\'' && i + 1 < n)
        {
            var a = s[i + 1];
            if (a is 's' or 't' or 'm' or 'd')
            {
                return i + 2;
            }

            if (i + 2 < n && ((a == 'r' && s[i + 2] == 'e') || (a == 'v' && s[i + 2] == 'e') || (a == 'l' && s[i + 2] == 'l')))
            {
                return i + 3;
            }
        }

        var start = i;
        if (c == ' ' && i + 1 < n)
        {
            var next = UnicodeClass.At(s, i + 1, out _);
            if (next != UnicodeClass.Space)
            {
                start = i + 1;
            }
        }

        var f = UnicodeClass.At(s, start, out _);
        if ((f & UnicodeClass.Letter) != 0)
        {
            return EndOf(s, start, UnicodeClass.Letter);
        }

        if ((f & UnicodeClass.Number) != 0)
        {
            return EndOf(s, start, UnicodeClass.Number);
        }

        if (f == 0)
        {
            return EndOfOther(s, start);
        }

        return WhitespaceRun(i, EndOf(s, i, UnicodeClass.Space), n);
    }

    // \s+(?!\S)|\s+ : the run minus its last character when a non-space follows, unless that leaves nothing.
    private static int WhitespaceRun(int start, int runEnd, int n) =>
        runEnd == n || runEnd - 1 == start ? runEnd : runEnd - 1;

    private static int EndOf(ReadOnlySpan<char> s, int i, byte kind)
    {
        while (i < s.Length)
        {
            if ((UnicodeClass.At(s, i, out var w) & kind) == 0)
            {
                break;
            }

            i += w;
        }

        return i;
    }

    private static int EndOfOther(ReadOnlySpan<char> s, int i)
    {
        while (i < s.Length)
        {
            if (UnicodeClass.At(s, i, out var w) != 0)
            {
                break;
            }

            i += w;
        }

        return i;
    }

    private static int SkipNewlines(ReadOnlySpan<char> s, int i)
    {
        while (i < s.Length && s[i] is '\r' or '\n')
        {
            i++;
        }

        return i;
    }
}
