using System.Text.Json;

namespace FuseChat.Fusion.Tokenization;

/// <summary>The parts of a transformers tokenizer_config.json that affect encoding or that later stages need.</summary>
internal sealed class TokenizerConfig
{
    public string? TokenizerClass { get; private init; }

    public bool? AddBosToken { get; private init; }

    public bool? AddEosToken { get; private init; }

    public string? BosToken { get; private init; }

    public string? EosToken { get; private init; }

    public string? PadToken { get; private init; }

    public string? UnkToken { get; private init; }

    public string? ChatTemplate { get; private init; }

    public static TokenizerConfig Empty { get; } = new();

    public static TokenizerConfig Read(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerLoadException(path, "the top level is not a JSON object");
            }

            return new TokenizerConfig
            {
                TokenizerClass = String(root, "tokenizer_class"),
                AddBosToken = Bool(root, "add_bos_token"),
                AddEosToken = Bool(root, "add_eos_token"),
                BosToken = TokenContent(root, "bos_token"),
                EosToken = TokenContent(root, "eos_token"),
                PadToken = TokenContent(root, "pad_token"),
                UnkToken = TokenContent(root, "unk_token"),
                ChatTemplate = ChatTemplateOf(root),
            };
        }
        catch (JsonException e)
        {
            throw new TokenizerLoadException(path, $"not valid JSON ({e.Message})", e);
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool? Bool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    // Special tokens are stored either as a string or as a serialized AddedToken object.
    private static string? TokenContent(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v))
        {
            return null;
        }

        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => null,
        };
    }

    // chat_template is a string, or a list of {name, template} where "default" is the main one.
    private static string? ChatTemplateOf(JsonElement root)
    {
        if (!root.TryGetProperty("chat_template", out var v))
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.String)
        {
            return v.GetString();
        }

        if (v.ValueKind == JsonValueKind.Array)
        {
            string? first = null;
            foreach (var item in v.EnumerateArray())
            {
                var name = String(item, "name");
                var template = String(item, "template");
                first ??= template;
                if (name == "default")
                {
                    return template;
                }
            }

            return first;
        }

        return null;
    }
}
