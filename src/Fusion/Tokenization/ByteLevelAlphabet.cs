namespace FuseChat.Fusion.Tokenization;

/// <summary>
/// GPT-2's bytes_to_unicode table: every byte maps to a printable character so byte-level BPE
/// vocabularies can be stored as text ("Ġ" is the space byte 0x20).
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>Byte value to its printable character.</summary>
    public static readonly char[] ByteToChar = BuildByteToChar();

    /// <summary>Printable character back to its byte, or -1 for characters outside the alphabet.</summary>
    public static readonly short[] CharToByte = BuildCharToByte();

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            table[b] = printable ? (char)b : (char)next++;
        }

        return table;
    }

    private static short[] BuildCharToByte()
    {
        var table = new short[512];
        Array.Fill(table, (short)-1);
        for (var b = 0; b < 256; b++)
        {
            table[ByteToChar[b]] = (short)b;
        }

        return table;
    }
}
