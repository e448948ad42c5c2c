using FuseChat.Fusion.Tokenization;

namespace FuseChat.Fusion.Tests.Tokenization;

/// <summary>Lookups, special tokens, vocabulary sizes and load errors.</summary>
public sealed class HfTokenizerTests
{
    [Fact]
    public void Tokenize_OpenChatEndOfTurn_IsAddedAsId32000()
    {
        var tokenizer = TokenizerFixtures.LoadFresh("llama2");
        Assert.Equal(32000, tokenizer.AddSpecialToken("<|end_of_turn|>"));
        Assert.Equal(32001, tokenizer.Count);

        var ids = tokenizer.Encode("GPT4 Correct User: Hello<|end_of_turn|>GPT4 Correct Assistant:", addSpecialTokens: true);

        Assert.Equal([1, 420, 6316, 28781, 3198, 3123, 1247, 28747, 22557, 32000, 420, 6316, 28781, 3198, 3123, 21631, 28747], ids);
        Assert.Equal("<|end_of_turn|>", tokenizer.IdToToken(32000));
        Assert.True(tokenizer.IsSpecial(32000));
        Assert.Equal("GPT4 Correct User: Hello GPT4 Correct Assistant:", tokenizer.Decode(ids, skipSpecialTokens: true));
        Assert.Equal(32000, tokenizer.AddSpecialToken("<|end_of_turn|>"));
    }

    [Theory]
    [InlineData("llama2", 32000, TokenizerKind.SentencePiece, "\u2581")]
    [InlineData("llama3", 128256, TokenizerKind.ByteLevel, "\u0120")]
    [InlineData("qwen3", 151669, TokenizerKind.ByteLevel, "\u0120")]
    [InlineData("gemma3", 262145, TokenizerKind.SentencePiece, "\u2581")]
    public void Tokenize_VocabularySizeAndKind(string name, int count, TokenizerKind kind, string marker)
    {
        var tokenizer = TokenizerFixtures.Shared(name);
        Assert.Equal(count, tokenizer.Count);
        Assert.Equal(kind, tokenizer.Kind);
        Assert.Equal(marker, tokenizer.WordBoundaryMarker);
    }

    [Fact]
    public void Tokenize_Llama2SpecialTokensAndLookups()
    {
        var tokenizer = TokenizerFixtures.Shared("llama2");
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(2, tokenizer.EosId);
        Assert.Equal(0, tokenizer.UnkId);
        Assert.Null(tokenizer.PadId);
        Assert.Equal(1, tokenizer.TokenToId("<s>"));
        Assert.Equal("<s>", tokenizer.IdToToken(1));
        Assert.Equal("<0x0A>", tokenizer.IdToToken(13));
        Assert.Null(tokenizer.TokenToId("no such token"));
        Assert.Null(tokenizer.IdToToken(99999));
        Assert.Equal([1, 22557, 1526], tokenizer.Encode("Hello world", addSpecialTokens: true));
        Assert.Equal([22557, 1526], tokenizer.Encode("Hello world", addSpecialTokens: false));
    }

    [Fact]
    public void Tokenize_ConfigTokensAndChatTemplate()
    {
        var qwen = TokenizerFixtures.Shared("qwen3");
        Assert.Equal(151645, qwen.EosId);
        Assert.Equal(151643, qwen.PadId);
        Assert.Null(qwen.BosId);
        Assert.Contains("<|im_start|>", qwen.ChatTemplate, StringComparison.Ordinal);
        Assert.False(qwen.IsSpecial(qwen.TokenToId("<think>")!.Value));

        var gemma = TokenizerFixtures.Shared("gemma3");
        Assert.Equal(2, gemma.BosId);
        Assert.Equal(106, gemma.EosId);
        Assert.Equal([2], gemma.PrefixSpecialIds);

        var llama3 = TokenizerFixtures.Shared("llama3");
        Assert.Equal(128000, llama3.BosId);
        Assert.Equal(128000, llama3.TokenToId("<|begin_of_text|>"));
    }

    [Fact]
    public void Tokenize_MalformedJson_NamesTheFile()
    {
        var path = WriteTemp("{ \"model\": ");
        var error = Assert.Throws<TokenizerLoadException>(() => HfTokenizer.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", "model type 'WordPiece'")]
    [InlineData("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"}}", "pre_tokenizer type 'BertPreTokenizer'")]
    [InlineData("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"BertNormalizer\"}]}}", "normalizer.normalizers[0] type 'BertNormalizer'")]
    [InlineData("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a b\"]}}", "model.merges[0]")]
    [InlineData("{\"normalizer\":null}", "missing \"model\"")]
    public void Tokenize_UnsupportedComponent_IsNamed(string json, string expected)
    {
        var path = WriteTemp(json);
        var error = Assert.Throws<TokenizerLoadException>(() => HfTokenizer.Load(path));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(path, error.FilePath);
    }

    private static string WriteTemp(string json)
    {
        var dir = Directory.CreateTempSubdirectory("tok-");
        var path = Path.Combine(dir.FullName, "tokenizer.json");
        File.WriteAllText(path, json);
        return path;
    }
}
