using System.Globalization;
using System.Text;

namespace FuseChat.Fusion.Tokenization;

/// <summary>
/// Code-point classification as Oniguruma (Hugging Face's regex engine) sees \p{L}, \p{N} and \s.
/// A table covers the BMP because this runs once per character of every encoded text.
/// </summary>
internal static class UnicodeClass
{
    public const byte Letter = 1;
    public const byte Number = 2;
    public const byte Space = 4;

    private static readonly byte[] Bmp = BuildBmp();

    /// <summary>Classifies the code point starting at <paramref name="index"/>; <paramref name="width"/> is 1 or 2 UTF-16 units.</summary>
    public static byte At(ReadOnlySpan<char> text, int index, out int width)
    {
        var c = text[index];
        if (!char.IsHighSurrogate(c) || index + 1 >= text.Length || !char.IsLowSurrogate(text[index + 1]))
        {
            width = 1;
            return Bmp[c];
        }

        width = 2;
        return Classify(new Rune(c, text[index + 1]));
    }

    private static byte Classify(Rune rune)
    {
        if (Rune.IsWhiteSpace(rune))
        {
            return Space;
        }

        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
            _ => 0,
        };
    }

    private static byte[] BuildBmp()
    {
        var table = new byte[65536];
        for (var c = 0; c < 65536; c++)
        {
            // Lone surrogates are neither letters nor numbers, like U+FFFD that Rust would see.
            table[c] = c is >= 0xD800 and <= 0xDFFF ? (byte)0 : Classify(new Rune(c));
        }

        return table;
    }
}
