using System.Text;
using FuseChat.Fusion.Tokenization;

namespace FuseChat.Fusion.Tests.Tokenization;

/// <summary>Our ids and decodes against Hugging Face's Rust tokenizers on the shared corpus.</summary>
public sealed class HfTokenizerParityTests
{
    public static TheoryData<string> Names => new(TokenizerFixtures.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void Tokenize_EncodeWithoutSpecialTokens_MatchesHuggingFace(string name) =>
        AssertAll(name, r => r.Ids, (t, r) => t.Encode(r.Text, addSpecialTokens: false));

    [Theory]
    [MemberData(nameof(Names))]
    public void Tokenize_EncodeWithSpecialTokens_MatchesHuggingFace(string name) =>
        AssertAll(name, r => r.IdsSpecial, (t, r) => t.Encode(r.Text, addSpecialTokens: true));

    [Theory]
    [MemberData(nameof(Names))]
    public void Tokenize_Decode_MatchesHuggingFace(string name)
    {
        var tokenizer = TokenizerFixtures.Shared(name);
        var failures = new StringBuilder();
        var count = 0;
        foreach (var r in TokenizerFixtures.Reference(name))
        {
            var decoded = tokenizer.Decode(r.IdsSpecial, skipSpecialTokens: false);
            var skipped = tokenizer.Decode(r.IdsSpecial, skipSpecialTokens: true);
            if (decoded != r.Decoded || skipped != r.DecodedSkip)
            {
                if (count++ < 5)
                {
                    failures.AppendLine($"text {Show(r.Text)}: ours {Show(decoded)} / {Show(skipped)}, HF {Show(r.Decoded)} / {Show(r.DecodedSkip)}");
                }
            }
        }

        Assert.True(count == 0, $"{name}: {count} decode mismatches\n{failures}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Tokenize_RoundTrip_WhereHuggingFaceRoundTrips(string name)
    {
        var tokenizer = TokenizerFixtures.Shared(name);
        var checkedLines = 0;
        foreach (var r in TokenizerFixtures.Reference(name))
        {
            if (r.DecodedSkip != r.Text)
            {
                continue;
            }

            checkedLines++;
            Assert.Equal(r.Text, tokenizer.Decode(tokenizer.Encode(r.Text, addSpecialTokens: true), skipSpecialTokens: true));
        }

        Assert.True(checkedLines > 100, $"{name}: only {checkedLines} corpus lines round-trip in HF");
    }

    private static void AssertAll(string name, Func<HfReference, int[]> expected, Func<HfTokenizer, HfReference, int[]> actual)
    {
        var tokenizer = TokenizerFixtures.Shared(name);
        var references = TokenizerFixtures.Reference(name);
        var failures = new StringBuilder();
        var count = 0;
        foreach (var r in references)
        {
            var ours = actual(tokenizer, r);
            var theirs = expected(r);
            if (!ours.AsSpan().SequenceEqual(theirs))
            {
                if (count++ < 5)
                {
                    failures.AppendLine($"text {Show(r.Text)}\n  ours [{string.Join(",", ours)}]\n  HF   [{string.Join(",", theirs)}]");
                }
            }
        }

        Assert.True(count == 0, $"{name}: {count} of {references.Count} corpus lines differ from Hugging Face\n{failures}");
    }

    private static string Show(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
