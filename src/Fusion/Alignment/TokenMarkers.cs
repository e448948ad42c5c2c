using System.Globalization;
using System.Text;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Word-boundary markers and conversions between the SentencePiece spelling of tokens ("▁the", byte
/// fallback "&lt;0x0A&gt;") and the byte-level BPE spelling ("Ġthe", "Ċ").
/// </summary>
public static class TokenMarkers
{
    /// <summary>SentencePiece's word-boundary marker, U+2581.</summary>
    public const string SentencePiece = "\u2581";

    /// <summary>Byte-level BPE's word-boundary marker, U+0120 (the byte-level spelling of a space).</summary>
    public const string ByteLevel = "\u0120";

    private const char SentencePieceChar = '\u2581';
    private const char ByteLevelChar = '\u0120';

    // GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes are
    // shifted to U+0100 onwards in byte order, so every byte has a visible, whitespace-free character.
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    /// <summary>True when <paramref name="c"/> is one of the two word-boundary markers.</summary>
    public static bool IsMarker(char c) => c is SentencePieceChar or ByteLevelChar;

    /// <summary>Removes every word-boundary marker of either convention.</summary>
    public static string Strip(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.AsSpan().IndexOfAny(SentencePieceChar, ByteLevelChar) < 0)
        {
            return token;
        }
        return string.Create(CountNonMarkers(token), token, static (span, t) =>
        {
            var k = 0;
            foreach (var c in t)
            {
                if (!IsMarker(c))
                {
                    span[k++] = c;
                }
            }
        });
    }

    /// <summary>Spells both markers as "▁" so tokens of the two conventions compare with their markers.</summary>
    public static string Unify(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token.Contains(ByteLevelChar, StringComparison.Ordinal) ? token.Replace(ByteLevelChar, SentencePieceChar) : token;
    }

    /// <summary>
    /// The two strings alignment compares for a pair of tokens: both stripped of markers, or, when either
    /// stripped string is empty (a bare marker), both unstripped with the markers unified (METHOD.md: compare
    /// with markers swapped instead), so that "▁" is closer to "Ġ" than to "the".
    /// </summary>
    public static (string Left, string Right) ComparisonForms(string left, string right)
    {
        var l = Strip(left);
        var r = Strip(right);
        return l.Length == 0 || r.Length == 0 ? (Unify(left), Unify(right)) : (l, r);
    }

    /// <summary>Replaces the marker <paramref name="fromMarker"/> by <paramref name="toMarker"/> ("▁the" to "Ġthe").</summary>
    public static string SwapMarkers(string token, string fromMarker, string toMarker)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentException.ThrowIfNullOrEmpty(fromMarker);
        ArgumentNullException.ThrowIfNull(toMarker);
        return fromMarker == toMarker ? token : token.Replace(fromMarker, toMarker, StringComparison.Ordinal);
    }

    /// <summary>
    /// Spells a token of the convention whose marker is <paramref name="fromMarker"/> as the convention whose
    /// marker is <paramref name="toMarker"/> would: between SentencePiece and byte-level this decodes bytes
    /// ("Ċ" and "&lt;0x0A&gt;", "Ã©" and "é"); otherwise it swaps the markers.
    /// </summary>
    public static string Convert(string token, string fromMarker, string toMarker)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (fromMarker == toMarker)
        {
            return token;
        }
        if (fromMarker == ByteLevel && toMarker == SentencePiece)
        {
            return ByteLevelToSentencePiece(token);
        }
        if (fromMarker == SentencePiece && toMarker == ByteLevel)
        {
            return SentencePieceToByteLevel(token);
        }
        return SwapMarkers(token, fromMarker, toMarker);
    }

    /// <summary>
    /// Byte-level spelling to SentencePiece spelling: spaces become "▁", control characters and bytes that
    /// are not whole UTF-8 characters become byte-fallback pieces "&lt;0xNN&gt;". Strings with characters outside
    /// the byte alphabet (special tokens) come back unchanged.
    /// </summary>
    public static string ByteLevelToSentencePiece(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        Span<byte> bytes = token.Length <= 256 ? stackalloc byte[token.Length] : new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out bytes[i]))
            {
                return token;
            }
        }
        var sb = new StringBuilder(token.Length + 8);
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            foreach (var b in bytes)
            {
                AppendByte(sb, b);
            }
            return sb.ToString();
        }
        foreach (var c in text)
        {
            if (c == ' ')
            {
                sb.Append(SentencePieceChar);
            }
            else if (c < 0x20 || c == 0x7F)
            {
                AppendByte(sb, (byte)c);
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    /// <summary>SentencePiece spelling to byte-level spelling: "▁" is a space, "&lt;0xNN&gt;" is the byte NN.</summary>
    public static string SentencePieceToByteLevel(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var bytes = new List<byte>(token.Length * 2);
        Span<byte> buffer = stackalloc byte[4];
        for (var i = 0; i < token.Length; i++)
        {
            if (TryParseByte(token.AsSpan(i), out var b))
            {
                bytes.Add(b);
                i += 5;
                continue;
            }
            var c = token[i];
            if (c == SentencePieceChar)
            {
                bytes.Add((byte)' ');
                continue;
            }
            var width = char.IsHighSurrogate(c) && i + 1 < token.Length ? 2 : 1;
            var n = Encoding.UTF8.GetBytes(token.AsSpan(i, width), buffer);
            for (var k = 0; k < n; k++)
            {
                bytes.Add(buffer[k]);
            }
            i += width - 1;
        }
        var chars = new char[bytes.Count];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = ByteToChar[bytes[i]];
        }
        return new string(chars);
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private static void AppendByte(StringBuilder sb, byte b) =>
        sb.Append("<0x").Append(b.ToString("X2", CultureInfo.InvariantCulture)).Append('>');

    private static bool TryParseByte(ReadOnlySpan<char> s, out byte value)
    {
        value = 0;
        return s.Length >= 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>'
            && byte.TryParse(s.Slice(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    private static int CountNonMarkers(string token)
    {
        var n = 0;
        foreach (var c in token)
        {
            if (!IsMarker(c))
            {
                n++;
            }
        }
        return n;
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var shifted = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)(256 + shifted++);
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (var b = 0; b < 256; b++)
        {
            map[ByteToChar[b]] = (byte)b;
        }
        return map;
    }
}
