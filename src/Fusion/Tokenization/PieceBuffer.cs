namespace FuseChat.Fusion.Tokenization;

/// <summary>One pre-tokenized piece: a range of <see cref="PieceBuffer.Chars"/>.</summary>
/// <param name="Start">First character.</param>
/// <param name="Length">Number of characters.</param>
/// <param name="AtTextStart">Whether the piece begins at offset 0 of the original text (Metaspace "first" needs it).</param>
internal readonly record struct Piece(int Start, int Length, bool AtTextStart);

/// <summary>
/// Reusable working storage for pre-tokenization: pieces are ranges of one growing char buffer, so
/// splitting allocates nothing and rewriting a piece appends its new text at the end.
/// </summary>
internal sealed class PieceBuffer
{
    private List<Piece> _scratch = new(64);

    public char[] Chars { get; private set; } = new char[4096];

    /// <summary>
    /// When tracking (the offsets path), the index in the text given to <see cref="Reset"/> that each
    /// char of <see cref="Chars"/> comes from; an inserted prefix takes its piece's first char.
    /// </summary>
    public int[] Origins { get; private set; } = [];

    public bool TrackOrigins { get; private set; }

    public int Length { get; private set; }

    public List<Piece> Pieces { get; private set; } = new(64);

    /// <summary>Whether the ByteLevel pre-tokenizer ran, so pieces must be mapped byte by byte before the model.</summary>
    public bool ByteLevel { get; set; }

    public ReadOnlySpan<char> this[Piece piece] => Chars.AsSpan(piece.Start, piece.Length);

    public void Reset(ReadOnlySpan<char> text, bool atTextStart, bool trackOrigins = false)
    {
        Length = 0;
        Pieces.Clear();
        ByteLevel = false;
        TrackOrigins = trackOrigins;
        var start = Append(text);
        if (trackOrigins)
        {
            for (var i = 0; i < text.Length; i++)
            {
                Origins[start + i] = i;
            }
        }

        Pieces.Add(new Piece(start, text.Length, atTextStart));
    }

    /// <summary>Appends characters and returns where they start.</summary>
    public int Append(ReadOnlySpan<char> text)
    {
        EnsureCapacity(Length + text.Length);
        text.CopyTo(Chars.AsSpan(Length));
        var start = Length;
        Length += text.Length;
        return start;
    }

    /// <summary>Appends <paramref name="prefix"/> followed by the piece's text, returning the rewritten piece.</summary>
    public Piece Prepend(Piece piece, char prefix)
    {
        EnsureCapacity(Length + piece.Length + 1);
        var start = Length;
        if (TrackOrigins)
        {
            Origins[Length] = Origins[piece.Start];
            Array.Copy(Origins, piece.Start, Origins, Length + 1, piece.Length);
        }

        Chars[Length++] = prefix;
        Array.Copy(Chars, piece.Start, Chars, Length, piece.Length);
        Length += piece.Length;
        return new Piece(start, piece.Length + 1, piece.AtTextStart);
    }

    /// <summary>Starts a splitting pass: pieces added to the returned list replace the current ones at <see cref="EndPass"/>.</summary>
    public List<Piece> BeginPass()
    {
        _scratch.Clear();
        return _scratch;
    }

    public void EndPass()
    {
        (Pieces, _scratch) = (_scratch, Pieces);
    }

    private void EnsureCapacity(int needed)
    {
        if (needed > Chars.Length)
        {
            var bigger = new char[Math.Max(needed, Chars.Length * 2)];
            Array.Copy(Chars, bigger, Length);
            Chars = bigger;
        }

        if (TrackOrigins && needed > Origins.Length)
        {
            var bigger = new int[Math.Max(needed, Chars.Length)];
            Array.Copy(Origins, bigger, Math.Min(Origins.Length, Length));
            Origins = bigger;
        }
    }
}
