using FuseChat.Fusion.Tokenization;

namespace FuseChat.Fusion.Templates;

/// <summary>The chat templates FuseChat supports, by name.</summary>
public static class ChatTemplates
{
    private static readonly Dictionary<string, IChatTemplate> ByName = Build();

    /// <summary>The known names (aliases included), sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. ByName.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The pivot's template in the FuseChat paper (OpenChat-3.5).</summary>
    public static IChatTemplate OpenChat35 => ByName["openchat_3.5"];

    /// <summary>The template with this name (case-insensitive).</summary>
    /// <param name="name">e.g. "openchat_3.5", "mistral", "mistral-nemo", "llama-2", "llama-3", "chatml", "qwen", "qwen3", "gemma", "internlm2", "phi-3", "phi-4", "phi-4-mini".</param>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the known names.</exception>
    public static IChatTemplate Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (ByName.TryGetValue(name, out var template))
        {
            return template;
        }

        throw new ArgumentException($"unknown chat template '{name}'; known templates: {string.Join(", ", Names)}", nameof(name));
    }

    /// <summary>Whether a template has this name (case-insensitive).</summary>
    /// <param name="name">The name.</param>
    /// <param name="template">The template when found.</param>
    public static bool TryGet(string name, out IChatTemplate template)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByName.TryGetValue(name, out template!);
    }

    /// <summary>
    /// Guesses a tokenizer's chat format from the special tokens it has (then from its Jinja
    /// chat_template for the [INST] formats, whose markers are plain text), or null when unsure.
    /// </summary>
    /// <param name="tokenizer">The tokenizer.</param>
    public static IChatTemplate? Detect(HfTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        bool Has(string token) => tokenizer.TokenToId(token) is not null;
        if (Has("<|eot_id|>") && Has("<|start_header_id|>"))
        {
            return ByName["llama-3"];
        }

        if (Has("<start_of_turn>"))
        {
            return ByName["gemma"];
        }

        // Phi-3's markers with its newline after "<|end|>", as a Jinja escape or a real newline (Phi-4-mini writes the
        // same markers without newlines).
        if (Has("<|assistant|>") && Has("<|end|>") && tokenizer.ChatTemplate is { } phi
            && (phi.Contains("<|end|>\\n", StringComparison.Ordinal) || phi.Contains("<|end|>\n", StringComparison.Ordinal)))
        {
            return ByName["phi-3"];
        }

        // Phi-4-mini: the same markers, its template writing "<|end|>" with nothing after it.
        if (Has("<|assistant|>") && Has("<|end|>") && tokenizer.ChatTemplate is { } mini && mini.Contains("<|end|>", StringComparison.Ordinal))
        {
            return ByName["phi-4-mini"];
        }

        if (Has("<|end_of_turn|>"))
        {
            return ByName["openchat_3.5"];
        }

        if (Has("<|im_start|>") && Has("<|im_sep|>"))
        {
            return ByName["phi-4"];
        }

        if (Has("<|im_start|>"))
        {
            // InternLM2 writes ChatML after a "<s>" BOS; Qwen has no BOS, and Qwen3 has thinking markers.
            return ByName[tokenizer.BosToken == "<s>" ? "internlm2" : Has("<think>") ? "qwen3" : "chatml"];
        }

        if (tokenizer.ChatTemplate is { } jinja && jinja.Contains("[INST]", StringComparison.Ordinal))
        {
            // Tekken's v3 format closes the marker's string right after it ("[INST]" + content); v0.1 writes a space.
            var tight = jinja.Contains("\"[INST]\" +", StringComparison.Ordinal) || jinja.Contains("'[INST]' +", StringComparison.Ordinal);
            return ByName[jinja.Contains("<<SYS>>", StringComparison.Ordinal) ? "llama-2" : tight ? "mistral-nemo" : "mistral"];
        }

        return null;
    }

    private static Dictionary<string, IChatTemplate> Build()
    {
        var chatml = new ChatMlTemplate("chatml", bosToken: null);
        IChatTemplate[] templates =
        [
            new OpenChatTemplate(),
            new MistralTemplate(),
            new MistralTemplate("mistral-nemo", spaced: false, systemOnLastUser: true),
            new Llama2Template(),
            new Llama3Template(),
            chatml,
            new GemmaTemplate(),
            new ChatMlTemplate("internlm2", bosToken: "<s>"),
            new ChatMlTemplate("qwen3", bosToken: null, emptyThinkBlock: true),
            new Phi3Template(),
            new Phi3Template("phi-4-mini", newline: ""),
            new ChatMlTemplate("phi-4", bosToken: null, roleSeparator: "<|im_sep|>", turnSeparator: ""),
        ];
        var byName = templates.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);
        byName["qwen"] = chatml;
        return byName;
    }
}
