using System.Text;
using FuseChat.Fusion.Tests.Tokenization;

namespace FuseChat.Fusion.Tests.Tokenization;

/// <summary>
/// Our encode-with-offsets against Hugging Face's offset mapping on the shared corpus. HF (Rust)
/// counts offsets in Unicode scalar values; ours are UTF-16 indices, so HF's are converted first.
/// </summary>
public sealed class HfTokenizerOffsetsTests
{
    public static TheoryData<string> Names => new(TokenizerFixtures.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void Tokenize_Offsets_MatchHuggingFace(string name)
    {
        var tokenizer = TokenizerFixtures.Shared(name);
        var failures = new StringBuilder();
        var count = 0;
        var ids = new List<int>();
        var offsets = new List<(int Start, int End)>();
        foreach (var r in TokenizerFixtures.Reference(name))
        {
            ids.Clear();
            offsets.Clear();
            tokenizer.Encode(r.Text, addSpecialTokens: true, ids, offsets);
            Assert.Equal(r.IdsSpecial, ids);
            var expected = ToUtf16(r.Text, r.OffsetsSpecial);
            if (!offsets.SequenceEqual(expected))
            {
                if (count++ < 5)
                {
                    failures.AppendLine($"text {System.Text.Json.JsonSerializer.Serialize(r.Text)}\n  ours {string.Join(" ", offsets)}\n  HF   {string.Join(" ", expected)}");
                }
            }
        }

        Assert.True(count == 0, $"{name}: {count} offset mismatches\n{failures}");
    }

    [Fact]
    public void Tokenize_Offsets_IdsEqualFastPath()
    {
        var tokenizer = TokenizerFixtures.Shared("qwen3");
        var ids = new List<int>();
        var offsets = new List<(int Start, int End)>();
        foreach (var text in TokenizerFixtures.Corpus())
        {
            ids.Clear();
            offsets.Clear();
            tokenizer.Encode(text, addSpecialTokens: false, ids, offsets);
            Assert.Equal(tokenizer.Encode(text, addSpecialTokens: false), ids);
        }
    }

    /// <summary>Converts offsets counted in Unicode scalar values to UTF-16 indices of <paramref name="text"/>.</summary>
    public static (int Start, int End)[] ToUtf16(string text, (int Start, int End)[] scalarOffsets)
    {
        var utf16 = new List<int>(text.Length + 1);
        for (var i = 0; i < text.Length; i++)
        {
            utf16.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
        }

        utf16.Add(text.Length);
        return scalarOffsets.Select(o => (utf16[o.Start], utf16[o.End])).ToArray();
    }
}
