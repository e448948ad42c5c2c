namespace FuseChat.Fusion.Tokenization;

/// <summary>
/// Finds added tokens in text the way Hugging Face's AddedVocabulary does: leftmost-longest matches
/// (aho-corasick LeftmostLongest), then the single_word / lstrip / rstrip adjustments.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly TrieNode _root = new();
    private readonly bool[] _firstChars = new bool[65536];
    private readonly bool _empty;

    public AddedTokenSplitter(IEnumerable<(string Pattern, AddedToken Token)> tokens)
    {
        var any = false;
        foreach (var (pattern, token) in tokens)
        {
            if (pattern.Length == 0)
            {
                continue;
            }

            any = true;
            _firstChars[pattern[0]] = true;
            var node = _root;
            foreach (var c in pattern)
            {
                node.Children ??= new Dictionary<char, TrieNode>();
                if (!node.Children.TryGetValue(c, out var child))
                {
                    child = new TrieNode();
                    node.Children[c] = child;
                }

                node = child;
            }

            // The first token registered for a pattern wins, as in HF where ids are unique per content.
            node.Token ??= token;
        }

        _empty = !any;
    }

    /// <summary>Whether no token can ever match, so callers can skip splitting.</summary>
    public bool IsEmpty => _empty;

    /// <summary>
    /// Appends the matches in <paramref name="text"/> as (start, end, token) with start/end already
    /// widened by lstrip/rstrip.
    /// </summary>
    public void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End, AddedToken Token)> matches)
    {
        if (_empty)
        {
            return;
        }

        var lastStop = 0;
        var i = 0;
        while (i < text.Length)
        {
            if (!_firstChars[text[i]])
            {
                i++;
                continue;
            }

            AddedToken? found = null;
            var foundEnd = 0;
            var node = _root;
            for (var j = i; j < text.Length; j++)
            {
                if (node.Children is null || !node.Children.TryGetValue(text[j], out node))
                {
                    break;
                }

                if (node.Token is not null)
                {
                    found = node.Token;
                    foundEnd = j + 1;
                }
            }

            if (found is null)
            {
                i++;
                continue;
            }

            int start = i, stop = foundEnd;
            i = foundEnd;
            if (found.SingleWord)
            {
                var startOk = start == 0 || !IsAlphanumericBefore(text, start);
                var stopOk = stop == text.Length || !IsAlphanumericAt(text, stop);
                if (!startOk || !stopOk)
                {
                    continue;
                }
            }

            if (found.LeftStrip)
            {
                var newStart = start;
                while (newStart > 0 && IsWhiteSpaceBefore(text, newStart, out var w))
                {
                    newStart -= w;
                }

                // Spaces already consumed by the previous match stay with it.
                start = Math.Max(lastStop, newStart);
            }

            if (found.RightStrip)
            {
                while (stop < text.Length && IsWhiteSpaceAt(text, stop, out var w))
                {
                    stop += w;
                }

                i = stop;
            }

            matches.Add((start, stop, found));
            lastStop = stop;
        }
    }

    private static bool IsAlphanumericBefore(ReadOnlySpan<char> text, int index)
    {
        var start = index >= 2 && char.IsLowSurrogate(text[index - 1]) && char.IsHighSurrogate(text[index - 2]) ? index - 2 : index - 1;
        return (UnicodeClass.At(text, start, out _) & (UnicodeClass.Letter | UnicodeClass.Number)) != 0;
    }

    private static bool IsAlphanumericAt(ReadOnlySpan<char> text, int index) =>
        (UnicodeClass.At(text, index, out _) & (UnicodeClass.Letter | UnicodeClass.Number)) != 0;

    private static bool IsWhiteSpaceBefore(ReadOnlySpan<char> text, int index, out int width)
    {
        width = 1;
        return char.IsWhiteSpace(text[index - 1]);
    }

    private static bool IsWhiteSpaceAt(ReadOnlySpan<char> text, int index, out int width)
    {
        width = 1;
        return char.IsWhiteSpace(text[index]);
    }

    private sealed class TrieNode
    {
        public Dictionary<char, TrieNode>? Children;
        public AddedToken? Token;
    }
}
