using FuseChat.Client.Commands;
using FuseChat.Testing.Support;

namespace FuseChat.Client.Tests;

public class TokenizeCommandTests
{
    private static string Llama2Folder()
    {
        var folder = Path.Combine(RepositoryRoot.Path, "tests", "fixtures", "npm", "node_modules", "@lenml", "tokenizer-llama2", "models");
        Assert.True(Directory.Exists(folder), $"{folder} is missing: run tests/fixtures/fetch-npm.sh");
        return folder;
    }

    [Fact]
    public void PrintsOneIdArrayPerJsonLineWithSpecialTokens()
    {
        var input = new StringReader("\"GPT4 Correct User: Hello<|end_of_turn|>GPT4 Correct Assistant:\"\n\"\"\n");
        var output = new StringWriter();
        var code = TokenizeCommand.Run(Llama2Folder(), addSpecial: true, ["<|end_of_turn|>"], input, output, new StringWriter());
        Assert.Equal(0, code);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("[1,420,6316,28781,3198,3123,1247,28747,22557,32000,420,6316,28781,3198,3123,21631,28747]", lines[0]);
        Assert.Equal("[1]", lines[1]);
    }

    [Fact]
    public void WithoutSpecialTokensThereIsNoBos()
    {
        var output = new StringWriter();
        Assert.Equal(0, TokenizeCommand.Run(Llama2Folder(), addSpecial: false, [], new StringReader("\"Hello\"\n"), output, new StringWriter()));
        Assert.Equal("[22557]", output.ToString().Trim());
    }

    [Fact]
    public void MalformedLineIsRejectedWithItsNumber()
    {
        var error = new StringWriter();
        var code = TokenizeCommand.Run(Llama2Folder(), false, [], new StringReader("\"ok\"\n{\"not\": \"a string\"}\n"), new StringWriter(), error);
        Assert.Equal(1, code);
        Assert.Contains("line 2", error.ToString());
    }

    [Fact]
    public void MissingTokenizerIsAClearError()
    {
        var error = new StringWriter();
        Assert.Equal(2, TokenizeCommand.Run("/nonexistent/tokenizer.json", false, [], new StringReader(""), new StringWriter(), error));
        Assert.Contains("/nonexistent", error.ToString());
    }
}
