using System.Text.RegularExpressions;
using FuseChat.Fusion.Tokenization;

namespace FuseChat.Fusion.Tests.Tokenization;

public sealed class CodePointRegexTests
{
    // Split patterns of real tokenizer.json files: Mistral's Tekken (NeMo, Small 3), o200k (Phi-4-mini, GPT-OSS),
    // cl100k (Llama 3), GPT-2, and constructs others use (lookahead, lazy and possessive repeats, bounded counts).
    public static TheoryData<string> Patterns =>
    [
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
        @"[\r\n]|\s?[A-Za-zÀ-ÖØ-öø-ʯ]+|\s?[!-/:-~]+|\s+\z|[一-龥가-힣]+|\p{N}+",
        @"\d{1,3}(?=(?:\d{3})*(?!\d))|[\p{L}\p{Nd}]+?(?=\s)|(?:ab)+|.+?|\S",
    ];

    /// <summary>On text without surrogates .NET's regex is exact: the code-point matcher must cut every line alike.</summary>
    [Theory]
    [MemberData(nameof(Patterns))]
    public void MatchesDotNetRegexOnTextWithoutSurrogates(string pattern)
    {
        var dotnet = new Regex(pattern, RegexOptions.CultureInvariant);
        var ours = CodePointRegex.Parse(pattern);
        var lines = TokenizerFixtures.Corpus().Select(l => new string(l.Where(c => !char.IsSurrogate(c)).ToArray()))
            .Concat(["", "abab abababa", "I'M here, it'S 12345678 o'clock\r\n\r\n  \t x", "Straße ÉCOLE école 한국어 中文"]);
        foreach (var line in lines)
        {
            var expected = dotnet.Matches(line).Where(m => m.Length > 0).Select(m => (m.Index, m.Index + m.Length)).ToList();
            var actual = new List<(int, int)>();
            ours.FindMatches(line, actual);
            Assert.True(expected.SequenceEqual(actual), $"'{line}': .NET [{string.Join(" ", expected)}], ours [{string.Join(" ", actual)}]");
        }
    }

    [Fact]
    public void AstralLettersDigitsAndSymbolsAreWholeCodePoints()
    {
        // U+1D7D9.. are digits (Nd), U+1D400.. letters (Lu), U+1F600 a symbol (So): each is one surrogate pair.
        Assert.Equal(["𝟙", "𝟚", "𝟛"], Split(@"\p{N}", "𝟙𝟚𝟛"));
        Assert.Equal(["𝐀𝐁𝐂", " ", "😀"], Split(@"\p{L}+|\s|\p{So}", "𝐀𝐁𝐂 😀"));
        // Tekken: a space before an astral digit stands alone, as Hugging Face splits it (.NET's regex glued them).
        Assert.Equal([" math", " ", "𝟙", "𝟚"], Split(@"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|\p{N}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", " math 𝟙𝟚"));
        // o200k (GPT-4o, Phi-4-mini): astral digits in groups of three.
        Assert.Equal([" ", "𝟙𝟚𝟛", "𝟜"], Split(@"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s+(?!\S)|\s+", " 𝟙𝟚𝟛𝟜"));
        Assert.Equal(["\uFFFD"], Split(@"\p{So}|.", "\uD800").Select(_ => "\uFFFD"));
    }

    [Fact]
    public void CaseInsensitiveGroupsFoldAsOniguruma()
    {
        Assert.Equal(["'S", "'ſ", "'LL"], Split(@"(?i:'s|'ll)", "'S 'ſ 'LL"));
        Assert.Equal(["ab", "AB"], Split(@"(?i)ab", "ab AB"));
    }

    [Fact]
    public void PossessiveRepeatsGiveNothingBack()
    {
        // \s*+ keeps the newline too, so the newline class after it never matches; [ ]*+ leaves it.
        Assert.Equal(["x"], Split(@"\s*+[\r\n]+|x", "  \nx"));
        Assert.Equal(["  \n"], Split(@"[ ]*+\n", "  \n"));
        Assert.Empty(Split(@"a*+a", "aaa"));
        Assert.Equal(["aaa"], Split(@"a*a", "aaa"));
    }

    [Fact]
    public void LongRunsDoNotExhaustTheStack()
    {
        var text = new string('x', 200_000) + " " + new string('7', 100_000);
        Assert.Equal([200_000, 1, 100_000], Split(@"\p{L}+|\s+|\d+", text).Select(m => m.Length));
    }

    [Theory]
    [InlineData(@"(a)\1", "escape '\\1'")]
    [InlineData(@"(?<name>a)", "group '(?<'")]
    [InlineData(@"[[:alpha:]]", "nested class")]
    [InlineData(@"\p{Greek}", @"property \p{Greek}")]
    [InlineData(@"\s+$", "line anchor '$'")]
    public void ConstructsOutsideTheSubsetAreRefusedByName(string pattern, string named)
    {
        var e = Assert.Throws<NotSupportedException>(() => CodePointRegex.Parse(pattern));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    private static List<string> Split(string pattern, string text)
    {
        var matches = new List<(int Start, int End)>();
        CodePointRegex.Parse(pattern).FindMatches(text, matches);
        return matches.Select(m => text[m.Start..m.End]).ToList();
    }
}
