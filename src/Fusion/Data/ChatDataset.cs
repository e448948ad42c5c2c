using System.Text.Json;
using FuseChat.Fusion.Templates;

namespace FuseChat.Fusion.Data;

/// <summary>
/// Reads chat data as JSON lines in the two formats users have: ShareGPT
/// (<c>{"id": ..., "conversations": [{"from": "human", "value": "..."}, {"from": "gpt", ...}]}</c>) and
/// OpenAI-style (<c>{"messages": [{"role": "user", "content": "..."}, ...]}</c>). Blank lines are skipped;
/// anything else malformed raises <see cref="ChatDataFormatException"/> naming the line.
/// </summary>
public static class ChatDataset
{
    /// <summary>Reads every record of <paramref name="path"/> lazily, in file order.</summary>
    public static IEnumerable<ChatRecord> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"chat data file {path} does not exist", path);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            yield return Parse(line, path, lineNumber);
        }
    }

    /// <summary>Parses one JSON line.</summary>
    public static ChatRecord Parse(string line, string path, int lineNumber)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new ChatDataFormatException(path, lineNumber, $"not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ChatDataFormatException(path, lineNumber, "expected a JSON object per line");
            var id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind is JsonValueKind.String or JsonValueKind.Number
                ? idElement.ToString()
                : $"line-{lineNumber}";
            List<ChatMessage> messages;
            if (root.TryGetProperty("conversations", out var shareGpt))
                messages = ReadMessages(shareGpt, "conversations", "from", "value", path, lineNumber);
            else if (root.TryGetProperty("messages", out var openAi))
                messages = ReadMessages(openAi, "messages", "role", "content", path, lineNumber);
            else
                throw new ChatDataFormatException(path, lineNumber, "no \"conversations\" (ShareGPT) or \"messages\" (OpenAI) array");
            // ShareGPT dumps often start with a model greeting; FastChat (and so FuseChat) drops it.
            var firstTurn = messages.Count > 0 && messages[0].Role == ChatRole.System ? 1 : 0;
            if (messages.Count > firstTurn && messages[firstTurn].Role == ChatRole.Assistant) messages.RemoveAt(firstTurn);
            if (messages.Count(m => m.Role == ChatRole.Assistant) == 0)
                throw new ChatDataFormatException(path, lineNumber, "the conversation has no assistant reply to learn from");
            try
            {
                return new ChatRecord(lineNumber, id, new Conversation(messages));
            }
            catch (ArgumentException e)
            {
                throw new ChatDataFormatException(path, lineNumber, e.Message, e);
            }
        }
    }

    private static List<ChatMessage> ReadMessages(JsonElement array, string field, string roleKey, string textKey, string path, int lineNumber)
    {
        if (array.ValueKind != JsonValueKind.Array)
            throw new ChatDataFormatException(path, lineNumber, $"\"{field}\" must be an array");
        var messages = new List<ChatMessage>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty(roleKey, out var role) || role.ValueKind != JsonValueKind.String
                || !item.TryGetProperty(textKey, out var text) || text.ValueKind != JsonValueKind.String)
                throw new ChatDataFormatException(path, lineNumber, $"{field}[{index}] needs string fields \"{roleKey}\" and \"{textKey}\"");
            messages.Add(new ChatMessage(ParseRole(role.GetString()!, path, lineNumber, $"{field}[{index}]"), text.GetString()!));
            index++;
        }
        return messages;
    }

    private static ChatRole ParseRole(string role, string path, int lineNumber, string where) => role.ToLowerInvariant() switch
    {
        "system" => ChatRole.System,
        "human" or "user" => ChatRole.User,
        "gpt" or "assistant" or "chatgpt" or "bard" or "bing" or "model" => ChatRole.Assistant,
        _ => throw new ChatDataFormatException(path, lineNumber, $"{where} has unknown role \"{role}\" (expected system, user/human, assistant/gpt)"),
    };
}
