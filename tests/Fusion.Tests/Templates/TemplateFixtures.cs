using System.Text.Json;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tests.Tokenization;

namespace FuseChat.Fusion.Tests.Templates;

/// <summary>Conversations for the template tests and the Jinja reference renderer (tests/fixtures/render-template.js).</summary>
public static class TemplateFixtures
{
    public static ChatMessage SystemMessage(string text) => new(ChatRole.System, text);

    public static ChatMessage User(string text) => new(ChatRole.User, text);

    public static ChatMessage Assistant(string text) => new(ChatRole.Assistant, text);

    /// <summary>System message and two user/assistant exchanges (distinct words so masks can be checked by text).</summary>
    public static Conversation TwoTurnsWithSystem { get; } = new(
    [
        SystemMessage("You are a helpful pirate."),
        User("Hello, how are you?"),
        Assistant("Arr, I be fine. How can I help ye today?"),
        User("Tell me about the sea."),
        Assistant("The sea be wide and deep, matey!"),
    ]);

    /// <summary>Conversations the Jinja comparisons run on (some with spaces and newlines to trim, non-ASCII text).</summary>
    public static IReadOnlyList<Conversation> Conversations { get; } =
    [
        new([User("Hello")]),
        new([User("Hello, how are you?"), Assistant("Fine, thanks.")]),
        new([SystemMessage("Be brief."), User("Hi"), Assistant("Hello!"), User("What is 2+2?")]),
        TwoTurnsWithSystem,
        new([User("  padded question \n"), Assistant("\n padded answer  "), User("naïve café 你好 😀")]),
        new([SystemMessage("Sys"), User("line one\nline two"), Assistant("a\n\nb"), User("x"), Assistant("y")]),
    ];

    public static string TemplatePath(string file) => Path.Combine(TokenizerFixtures.FixturesDir, "templates", file);

    public static string TokenizerConfig(string name) => Path.Combine(TokenizerFixtures.ModelDir(name), "tokenizer_config.json");

    /// <summary>Renders each conversation with a Jinja template through @huggingface/jinja; null where the template raised.</summary>
    public static IReadOnlyList<string?> RenderJinja(string templatePath, IReadOnlyList<Conversation> conversations, bool addGenerationPrompt, string? bos, string? eos)
    {
        if (!Directory.Exists(Path.Combine(TokenizerFixtures.FixturesDir, "npm", "node_modules", "@huggingface", "jinja")))
        {
            Assert.Fail("@huggingface/jinja is missing. Run tests/fixtures/fetch-npm.sh first.");
        }

        var lines = Support.NodeScript.Run("render-template.js", [templatePath], conversations.Select(conversation =>
        {
            var request = new Dictionary<string, object?>
            {
                ["messages"] = conversation.Messages.Select(m => new Dictionary<string, string>
                {
                    ["role"] = m.Role.ToString().ToLowerInvariant(),
                    ["content"] = m.Content,
                }).ToList(),
                ["add_generation_prompt"] = addGenerationPrompt,
                ["bos_token"] = bos,
                ["eos_token"] = eos,
            };
            return JsonSerializer.Serialize(request);
        }));
        Assert.Equal(conversations.Count, lines.Length);
        return lines.Select(line =>
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.String ? doc.RootElement.GetString() : null;
        }).ToList();
    }
}
