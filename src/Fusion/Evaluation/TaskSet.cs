using System.Text.Json;
using FuseChat.Fusion.Data;

namespace FuseChat.Fusion.Evaluation;

/// <summary>
/// Reads exact-match task sets: JSON lines of <c>{"prompt": "...", "answer": "..."}</c>
/// (also accepted: "question"/"input" and "target"/"output"). Malformed lines name the line.
/// </summary>
public static class TaskSet
{
    /// <summary>Reads every example of <paramref name="path"/>.</summary>
    public static IReadOnlyList<TaskExample> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"task set {path} does not exist", path);
        var examples = new List<TaskExample>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                var prompt = First(root, "prompt", "question", "input");
                var answer = First(root, "answer", "target", "output");
                if (prompt is null || answer is null)
                    throw new ChatDataFormatException(path, lineNumber, "needs string fields \"prompt\" and \"answer\"");
                examples.Add(new TaskExample(lineNumber, prompt, answer));
            }
            catch (JsonException e)
            {
                throw new ChatDataFormatException(path, lineNumber, $"not valid JSON ({e.Message})", e);
            }
        }
        return examples;
    }

    private static string? First(JsonElement root, params string[] names)
    {
        if (root.ValueKind != JsonValueKind.Object) return null;
        foreach (var name in names)
            if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String) return value.GetString();
        return null;
    }

    /// <summary>
    /// Exact match after trimming whitespace and a trailing period, case-insensitively: a greedy reply
    /// "Paris." matches the answer "paris".
    /// </summary>
    public static bool Matches(string reply, string answer) =>
        string.Equals(Normalize(reply), Normalize(answer), StringComparison.OrdinalIgnoreCase);

    private static string Normalize(string text) => text.Trim().TrimEnd('.').Trim();
}
