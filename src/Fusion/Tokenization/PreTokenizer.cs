namespace FuseChat.Fusion.Tokenization;

/// <summary>How a Split pre-tokenizer keeps the delimiters it finds (HF SplitDelimiterBehavior).</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>A tokenizer.json pre-tokenizer: splits (and sometimes rewrites) the pieces of a segment.</summary>
internal abstract class PreTokenizer
{
    public abstract void Apply(PieceBuffer buffer);

    /// <summary>Splits every current piece on <paramref name="pattern"/> as Hugging Face's NormalizedString::split does.</summary>
    protected static void SplitPieces(PieceBuffer buffer, SplitPattern pattern, SplitBehavior behavior, bool invert, List<(int Start, int End)> matches)
    {
        var output = buffer.BeginPass();
        foreach (var piece in buffer.Pieces)
        {
            matches.Clear();
            pattern.FindMatches(buffer[piece], matches);
            if (matches.Count == 1 && matches[0].Start == 0 && matches[0].End == piece.Length && !invert && behavior != SplitBehavior.Removed)
            {
                // The whole piece is one match: every behaviour but Removed keeps it as is.
                output.Add(piece);
                continue;
            }

            EmitSplits(piece, matches, behavior, invert, output);
        }

        buffer.EndPass();
    }

    private static void EmitSplits(Piece piece, List<(int Start, int End)> matches, SplitBehavior behavior, bool invert, List<Piece> output)
    {
        // Walk the alternating (range, isMatch) sequence that covers the piece.
        var pendingStart = -1; // start of a range carried into the next one (MergedWithNext / Contiguous)
        var previousWasMatch = false;
        var cursor = 0;
        var matchIndex = 0;
        while (cursor < piece.Length)
        {
            int end;
            bool isMatch;
            if (matchIndex < matches.Count && matches[matchIndex].Start == cursor)
            {
                end = matches[matchIndex].End;
                isMatch = true;
                matchIndex++;
            }
            else
            {
                end = matchIndex < matches.Count ? matches[matchIndex].Start : piece.Length;
                isMatch = false;
            }

            if (invert)
            {
                isMatch = !isMatch;
            }

            switch (behavior)
            {
                case SplitBehavior.Removed:
                    if (!isMatch)
                    {
                        Add(output, piece, cursor, end);
                    }

                    break;
                case SplitBehavior.Isolated:
                    Add(output, piece, cursor, end);
                    break;
                case SplitBehavior.MergedWithPrevious:
                    if (isMatch && output.Count > 0 && previousWasMatch == false && cursor > 0 && LastEndsAt(output, piece, cursor))
                    {
                        var last = output[^1];
                        output[^1] = last with { Length = last.Length + (end - cursor) };
                    }
                    else
                    {
                        Add(output, piece, cursor, end);
                    }

                    break;
                case SplitBehavior.MergedWithNext:
                    if (isMatch)
                    {
                        if (pendingStart >= 0)
                        {
                            Add(output, piece, pendingStart, cursor);
                        }

                        pendingStart = cursor;
                    }
                    else
                    {
                        Add(output, piece, pendingStart >= 0 ? pendingStart : cursor, end);
                        pendingStart = -1;
                    }

                    break;
                case SplitBehavior.Contiguous:
                    if (isMatch && previousWasMatch && LastEndsAt(output, piece, cursor))
                    {
                        var last = output[^1];
                        output[^1] = last with { Length = last.Length + (end - cursor) };
                    }
                    else
                    {
                        Add(output, piece, cursor, end);
                    }

                    break;
            }

            previousWasMatch = isMatch;
            cursor = end;
        }

        if (pendingStart >= 0)
        {
            Add(output, piece, pendingStart, piece.Length);
        }
    }

    private static bool LastEndsAt(List<Piece> output, Piece piece, int cursor)
    {
        var last = output[^1];
        return last.Start + last.Length == piece.Start + cursor;
    }

    private static void Add(List<Piece> output, Piece piece, int start, int end)
    {
        if (end > start)
        {
            output.Add(new Piece(piece.Start + start, end - start, piece.AtTextStart && start == 0));
        }
    }
}

/// <summary>Split: regex or literal pattern with a delimiter behaviour.</summary>
internal sealed class SplitPreTokenizer(SplitPattern pattern, SplitBehavior behavior, bool invert) : PreTokenizer
{
    [ThreadStatic]
    private static List<(int Start, int End)>? t_matches;

    public override void Apply(PieceBuffer buffer) =>
        SplitPieces(buffer, pattern, behavior, invert, t_matches ??= new List<(int Start, int End)>(256));
}

/// <summary>ByteLevel: optional prefix space and GPT-2 regex split, then byte-to-character mapping (done by the model stage).</summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    private static readonly SplitPattern Gpt2 = SplitPattern.ForRegex(SplitPattern.Gpt2Regex);

    [ThreadStatic]
    private static List<(int Start, int End)>? t_matches;

    public override void Apply(PieceBuffer buffer)
    {
        if (addPrefixSpace)
        {
            var pieces = buffer.Pieces;
            for (var i = 0; i < pieces.Count; i++)
            {
                if (pieces[i].Length > 0 && buffer.Chars[pieces[i].Start] != ' ')
                {
                    pieces[i] = buffer.Prepend(pieces[i], ' ');
                }
            }
        }

        if (useRegex)
        {
            SplitPieces(buffer, Gpt2, SplitBehavior.Isolated, false, t_matches ??= new List<(int Start, int End)>(256));
        }

        buffer.ByteLevel = true;
    }
}

/// <summary>When Metaspace prepends its replacement character.</summary>
internal enum PrependScheme
{
    Always,
    First,
    Never,
}

/// <summary>Metaspace: spaces become "▁", a "▁" is prepended per the scheme, optional split before each "▁".</summary>
internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme scheme, bool split) : PreTokenizer
{
    [ThreadStatic]
    private static List<(int Start, int End)>? t_matches;

    private readonly SplitPattern _splitter = SplitPattern.ForLiteral(replacement.ToString());

    public override void Apply(PieceBuffer buffer)
    {
        var pieces = buffer.Pieces;
        for (var i = 0; i < pieces.Count; i++)
        {
            var piece = pieces[i];
            buffer.Chars.AsSpan(piece.Start, piece.Length).Replace(' ', replacement);
            if (piece.Length > 0 && buffer.Chars[piece.Start] != replacement
                && (scheme == PrependScheme.Always || (scheme == PrependScheme.First && piece.AtTextStart)))
            {
                pieces[i] = buffer.Prepend(piece, replacement);
            }
        }

        if (split)
        {
            SplitPieces(buffer, _splitter, SplitBehavior.MergedWithNext, false, t_matches ??= new List<(int Start, int End)>(256));
        }
    }
}

/// <summary>Digits: HF splits on char::is_numeric (Nd, Nl, No), each digit alone or runs kept together.</summary>
internal sealed class DigitsPreTokenizer(bool individual) : PreTokenizer
{
    private static readonly SplitPattern NumericChars = new NumericCharPattern();

    [ThreadStatic]
    private static List<(int Start, int End)>? t_matches;

    public override void Apply(PieceBuffer buffer) =>
        SplitPieces(buffer, NumericChars, individual ? SplitBehavior.Isolated : SplitBehavior.Contiguous, false, t_matches ??= new List<(int Start, int End)>(256));

    // Every numeric code point is its own match, as with a Rust char-predicate pattern.
    private sealed class NumericCharPattern : SplitPattern
    {
        public override void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End)> matches)
        {
            for (var i = 0; i < text.Length;)
            {
                var kind = UnicodeClass.At(text, i, out var width);
                if ((kind & UnicodeClass.Number) != 0)
                {
                    matches.Add((i, i + width));
                }

                i += width;
            }
        }
    }
}

/// <summary>Applies pre-tokenizers in order.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizer> steps) : PreTokenizer
{
    public override void Apply(PieceBuffer buffer)
    {
        foreach (var step in steps)
        {
            step.Apply(buffer);
        }
    }
}
