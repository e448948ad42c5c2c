using System.Text;

namespace FuseChat.Fusion.Tokenization;

/// <summary>
/// Managed Unicode normalization (UAX #15). The app runs with InvariantGlobalization, where
/// string.Normalize leaves non-ASCII text unchanged, so tokenizers with an NFC/NFKC normalizer
/// (Qwen) would otherwise diverge from Hugging Face on decomposed input.
/// </summary>
internal static partial class UnicodeNormalization
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Dictionary<int, (int Start, int Length, bool Compat)> Decompositions = BuildDecompositions();
    private static readonly Dictionary<int, byte> CombiningClasses = BuildCombiningClasses();
    private static readonly Dictionary<long, int> Compositions = BuildCompositions();

    // Per BMP character: bit 0 = may change under NFC/NFD, bit 1 = may change under NFKC/NFKD.
    private static readonly byte[] BmpQuickCheck = BuildQuickCheck();

    public static string Normalize(string text, NormalizationForm form)
    {
        var compat = form is NormalizationForm.FormKC or NormalizationForm.FormKD;
        var compose = form is NormalizationForm.FormC or NormalizationForm.FormKC;
        if (!NeedsWork(text, compat))
        {
            return text;
        }

        var buffer = new List<int>(text.Length + 8);
        for (var i = 0; i < text.Length;)
        {
            var status = Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var consumed);
            i += consumed;
            Decompose(status == System.Buffers.OperationStatus.Done ? rune.Value : 0xFFFD, compat, buffer);
        }

        ReorderCanonically(buffer);
        if (compose)
        {
            Compose(buffer);
        }

        var builder = new StringBuilder(buffer.Count + 8);
        foreach (var cp in buffer)
        {
            builder.Append(new Rune(cp).ToString());
        }

        return builder.ToString();
    }

    private static bool NeedsWork(string text, bool compat)
    {
        var mask = compat ? 3 : 1;
        foreach (var c in text)
        {
            // Astral characters: be conservative and take the slow path.
            if (char.IsSurrogate(c) || (BmpQuickCheck[c] & mask) != 0)
            {
                return true;
            }
        }

        return false;
    }

    private static void Decompose(int cp, bool compat, List<int> output)
    {
        if (cp >= SBase && cp < SBase + SCount)
        {
            var s = cp - SBase;
            output.Add(LBase + (s / NCount));
            output.Add(VBase + (s % NCount / TCount));
            if (s % TCount != 0)
            {
                output.Add(TBase + (s % TCount));
            }

            return;
        }

        if (Decompositions.TryGetValue(cp, out var entry) && (compat || !entry.Compat))
        {
            var data = DecompositionData;
            for (var k = 0; k < entry.Length; k++)
            {
                Decompose(data[entry.Start + k], compat, output);
            }

            return;
        }

        output.Add(cp);
    }

    private static int ClassOf(int cp) => CombiningClasses.TryGetValue(cp, out var c) ? c : 0;

    // Stable sort of every run of non-starters by combining class.
    private static void ReorderCanonically(List<int> buffer)
    {
        for (var i = 1; i < buffer.Count; i++)
        {
            var cls = ClassOf(buffer[i]);
            if (cls == 0)
            {
                continue;
            }

            var j = i;
            while (j > 0)
            {
                var previous = ClassOf(buffer[j - 1]);
                if (previous <= cls)
                {
                    break;
                }

                (buffer[j - 1], buffer[j]) = (buffer[j], buffer[j - 1]);
                j--;
            }
        }
    }

    private static void Compose(List<int> buffer)
    {
        if (buffer.Count == 0)
        {
            return;
        }

        var starterPos = 0;
        var starter = buffer[0];
        var lastClass = ClassOf(starter) != 0 ? 256 : 0;
        var write = 1;
        for (var read = 1; read < buffer.Count; read++)
        {
            var cp = buffer[read];
            var cls = ClassOf(cp);
            var composite = ComposePair(starter, cp);
            if (composite >= 0 && (lastClass < cls || lastClass == 0))
            {
                buffer[starterPos] = composite;
                starter = composite;
                continue;
            }

            if (cls == 0)
            {
                starterPos = write;
                starter = cp;
            }

            lastClass = cls;
            buffer[write++] = cp;
        }

        buffer.RemoveRange(write, buffer.Count - write);
    }

    private static int ComposePair(int first, int second)
    {
        if (first >= LBase && first < LBase + LCount && second >= VBase && second < VBase + VCount)
        {
            return SBase + ((((first - LBase) * VCount) + (second - VBase)) * TCount);
        }

        if (first >= SBase && first < SBase + SCount && (first - SBase) % TCount == 0 && second > TBase && second < TBase + TCount)
        {
            return first + (second - TBase);
        }

        return Compositions.TryGetValue(((long)first << 32) | (uint)second, out var composed) ? composed : -1;
    }

    private static Dictionary<int, (int Start, int Length, bool Compat)> BuildDecompositions()
    {
        var map = new Dictionary<int, (int, int, bool)>();
        var data = DecompositionData;
        for (var i = 0; i < data.Length;)
        {
            var cp = data[i];
            var info = data[i + 1];
            var length = info & 0xFF;
            map[cp] = (i + 2, length, (info >> 8) != 0);
            i += 2 + length;
        }

        return map;
    }

    private static Dictionary<int, byte> BuildCombiningClasses()
    {
        var map = new Dictionary<int, byte>();
        var data = CombiningClassData;
        for (var i = 0; i < data.Length; i += 2)
        {
            map[data[i]] = (byte)data[i + 1];
        }

        return map;
    }

    private static Dictionary<long, int> BuildCompositions()
    {
        var map = new Dictionary<long, int>();
        var data = CompositionData;
        for (var i = 0; i < data.Length; i += 3)
        {
            map[((long)data[i] << 32) | (uint)data[i + 1]] = data[i + 2];
        }

        return map;
    }

    private static byte[] BuildQuickCheck()
    {
        var table = new byte[65536];
        foreach (var (cp, entry) in Decompositions)
        {
            if (cp < 65536)
            {
                table[cp] |= (byte)(entry.Compat ? 2 : 3);
            }
        }

        foreach (var cp in CombiningClasses.Keys)
        {
            if (cp < 65536)
            {
                table[cp] |= 3;
            }
        }

        var data = CompositionData;
        for (var i = 0; i < data.Length; i += 3)
        {
            if (data[i + 1] < 65536)
            {
                table[data[i + 1]] |= 3;
            }
        }

        // Hangul: syllables decompose (NFD) and conjoining jamo compose (NFC).
        for (var c = LBase; c < LBase + LCount; c++)
        {
            table[c] |= 3;
        }

        for (var c = VBase; c < VBase + VCount; c++)
        {
            table[c] |= 3;
        }

        for (var c = TBase + 1; c < TBase + TCount; c++)
        {
            table[c] |= 3;
        }

        for (var c = SBase; c < SBase + SCount; c++)
        {
            table[c] |= 3;
        }

        return table;
    }
}
