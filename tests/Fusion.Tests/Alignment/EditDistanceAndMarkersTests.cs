using FuseChat.Fusion.Alignment;

namespace FuseChat.Fusion.Tests.Alignment;

public class EditDistanceAndMarkersTests
{
    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("flaw", "lawn", 2)]
    [InlineData("intention", "execution", 5)]
    [InlineData("", "abc", 3)]
    [InlineData("abc", "", 3)]
    [InlineData("abc", "abc", 0)]
    [InlineData("a", "b", 1)]
    [InlineData("fusion", "fus", 3)]
    [InlineData("ledge", "Knowledge", 4)]
    [InlineData("ab", "ba", 2)]
    public void KnownPairs(string a, string b, int expected)
    {
        Assert.Equal(expected, EditDistance.Compute(a, b));
        Assert.Equal(expected, EditDistance.Compute(b, a));
    }

    [Fact]
    public void MatchesNaiveDynamicProgrammingOnRandomAndLongStrings()
    {
        var rng = new Random(7);
        for (var t = 0; t < 500; t++)
        {
            var a = RandomString(rng, t < 480 ? rng.Next(0, 12) : rng.Next(250, 400));
            var b = RandomString(rng, t < 480 ? rng.Next(0, 12) : rng.Next(250, 400));
            Assert.Equal(Naive(a, b), EditDistance.Compute(a, b));
        }
    }

    [Fact]
    public void StripAndComparisonForms()
    {
        Assert.Equal("the", TokenMarkers.Strip("▁the"));
        Assert.Equal("the", TokenMarkers.Strip("Ġthe"));
        Assert.Equal(("the", "the"), TokenMarkers.ComparisonForms("▁the", "Ġthe"));
        // A bare marker compares unstripped, markers unified: "▁" is then closer to "Ġ" than to "the".
        Assert.Equal(("▁", "▁"), TokenMarkers.ComparisonForms("▁", "Ġ"));
        Assert.Equal(("▁", "the"), TokenMarkers.ComparisonForms("▁", "the"));
    }

    [Theory]
    [InlineData("Ġthe", "▁the")]
    [InlineData("Ċ", "<0x0A>")]
    [InlineData("ĠĠ", "▁▁")]
    [InlineData("Ã©t", "ét")]
    [InlineData("<|endoftext|>", "<|endoftext|>")]
    public void ConvertsBetweenByteLevelAndSentencePiece(string byteLevel, string sentencePiece)
    {
        Assert.Equal(sentencePiece, TokenMarkers.Convert(byteLevel, TokenMarkers.ByteLevel, TokenMarkers.SentencePiece));
        Assert.Equal(byteLevel, TokenMarkers.Convert(sentencePiece, TokenMarkers.SentencePiece, TokenMarkers.ByteLevel));
    }

    [Fact]
    public void PartialUtf8BytesBecomeByteFallbackPieces()
    {
        Assert.Equal("<0xC3>", TokenMarkers.ByteLevelToSentencePiece("Ã"));
        Assert.Equal("▁the", TokenMarkers.SwapMarkers("Ġthe", TokenMarkers.ByteLevel, TokenMarkers.SentencePiece));
    }

    [Fact]
    public void IdentityPlanComparesEveryTokenString()
    {
        var a = new ListTokenVocabulary(["<s>", "▁a", "b"], TokenMarkers.SentencePiece);
        var b = new ListTokenVocabulary(["<s>", "▁a", "b"], TokenMarkers.SentencePiece);
        var c = new ListTokenVocabulary(["<s>", "▁a", "c"], TokenMarkers.SentencePiece);
        var d = new ListTokenVocabulary(["<s>", "▁a"], TokenMarkers.SentencePiece);
        Assert.True(AlignmentPlan.IsIdentity(a, b));
        Assert.False(AlignmentPlan.IsIdentity(a, c));
        Assert.False(AlignmentPlan.IsIdentity(a, d));
    }

    internal static int Naive(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }
        return d[a.Length, b.Length];
    }

    private static string RandomString(Random rng, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = (char)('a' + rng.Next(4));
        }
        return new string(chars);
    }
}

public class BitParallelEditDistanceTests
{
    [Fact]
    public void BitParallelMatchesClassicOnRandomStringsIncludingNonAsciiAndLong()
    {
        var rng = new Random(19);
        // Small alphabets force many matches; non-ASCII letters (markers, accents, CJK, surrogate halves) use the list path.
        string[] alphabets = ["ab", "abcd", "etaoinshrd", "a\u2581\u0120é", "日本語ab", "\ud83d\ude00\ud83d\ude01x"];
        for (var t = 0; t < 4000; t++)
        {
            var alphabet = alphabets[t % alphabets.Length];
            var la = t % 10 == 0 ? rng.Next(55, 130) : rng.Next(1, 20);
            var lb = t % 10 == 0 ? rng.Next(0, 150) : rng.Next(0, 24);
            var a = Random(rng, alphabet, la);
            var b = Random(rng, alphabet, lb);
            var expected = EditDistanceAndMarkersTests.Naive(a, b);
            Assert.Equal(expected, EditDistance.Classic(a, b));
            Assert.Equal(expected, EditDistance.Compute(a, b));
            Assert.Equal(expected, EditDistance.Compute(b, a));
            if (a.Length is >= 1 and <= 64)
            {
                Assert.Equal(expected, EditDistance.BitParallel(a, b));
            }
        }
    }

    [Fact]
    public void BitParallelAtWordEdges()
    {
        var a64 = new string('x', 63) + "y";
        var b = new string('x', 64);
        Assert.Equal(1, EditDistance.BitParallel(a64, b));
        Assert.Equal(64, EditDistance.BitParallel(a64, ""));
        Assert.Equal(EditDistanceAndMarkersTests.Naive(a64, "yx"), EditDistance.BitParallel(a64, "yx"));
        var a65 = new string('q', 65);
        Assert.Equal(EditDistanceAndMarkersTests.Naive(a65, b), EditDistance.Compute(a65, b));
    }

    private static string Random(Random rng, string alphabet, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[rng.Next(alphabet.Length)];
        }
        return new string(chars);
    }
}
