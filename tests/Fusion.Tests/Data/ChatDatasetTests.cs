using FuseChat.Fusion.Data;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tests.Checkpoints;

namespace FuseChat.Fusion.Tests.Data;

public class ChatDatasetTests
{
    private static string Write(TempFolder folder, params string[] lines)
    {
        var path = folder.File("data.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void ReadsShareGptAndOpenAiRecords()
    {
        using var folder = new TempFolder();
        var path = Write(folder,
            """{"id": "a1", "conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]}""",
            "",
            """{"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}, {"role": "user", "content": "3+3?"}, {"role": "assistant", "content": "6"}]}""");
        var records = ChatDataset.Read(path).ToList();
        Assert.Equal(2, records.Count);
        Assert.Equal("a1", records[0].Id);
        Assert.Equal("Be brief.", records[0].Conversation.System);
        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.Assistant], records[0].Conversation.Messages.Select(m => m.Role));
        Assert.Equal("line-3", records[1].Id);
        Assert.Equal(3, records[1].LineNumber);
        Assert.Equal(["2+2?", "4", "3+3?", "6"], records[1].Conversation.Messages.Select(m => m.Content));
    }

    [Fact]
    public void LeadingAssistantGreetingIsDroppedAsFastChatDoes()
    {
        var record = ChatDataset.Parse(
            """{"conversations": [{"from": "gpt", "value": "How can I help?"}, {"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}""", "x.jsonl", 1);
        Assert.Equal(["Hi", "Hello"], record.Conversation.Messages.Select(m => m.Content));
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1, 2]", "expected a JSON object")]
    [InlineData("""{"text": "hello"}""", "no \"conversations\"")]
    [InlineData("""{"conversations": [{"from": "human"}]}""", "conversations[0] needs string fields \"from\" and \"value\"")]
    [InlineData("""{"messages": [{"role": "robot", "content": "x"}]}""", "unknown role \"robot\"")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}]}""", "no assistant reply")]
    [InlineData("""{"messages": [{"role": "user", "content": "x"}, {"role": "user", "content": "y"}, {"role": "assistant", "content": "z"}]}""", "alternate")]
    public void MalformedRecordNamesFileLineAndProblem(string line, string problem)
    {
        using var folder = new TempFolder();
        var path = Write(folder, """{"messages": [{"role": "user", "content": "ok"}, {"role": "assistant", "content": "fine"}]}""", line);
        var e = Assert.Throws<ChatDataFormatException>(() => ChatDataset.Read(path).ToList());
        Assert.Equal(2, e.LineNumber);
        Assert.StartsWith($"{path}:2: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ChatDataset.Read("/nonexistent/data.jsonl").ToList());
        Assert.Contains("/nonexistent/data.jsonl", e.Message);
    }
}
