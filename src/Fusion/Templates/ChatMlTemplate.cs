namespace FuseChat.Fusion.Templates;

/// <summary>
/// ChatML ("&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n"), used by Qwen and, after a "&lt;s&gt;" BOS,
/// by InternLM2-chat. The newline after "&lt;|im_end|&gt;" is a separator, not part of the reply. With
/// <paramref name="emptyThinkBlock"/> it is Qwen3's template: a conversation that ends with an assistant reply to its
/// last user message opens that reply with an empty "&lt;think&gt;\n\n&lt;/think&gt;\n\n" (no reasoning), which
/// is prompt, not reply, as the generation prompt of Qwen3's non-thinking mode carries it. With
/// <paramref name="roleSeparator"/> "&lt;|im_sep|&gt;" and no <paramref name="turnSeparator"/> it is Phi-4's:
/// "&lt;|im_start|&gt;role&lt;|im_sep|&gt;content&lt;|im_end|&gt;", turn after turn.
/// </summary>
internal sealed class ChatMlTemplate(string name, string? bosToken, bool emptyThinkBlock = false, string roleSeparator = "\n", string turnSeparator = "\n")
    : IChatTemplate
{
    public string Name => name;

    public string? BosToken => bosToken;

    public IReadOnlyList<ChatSegment> Render(Conversation conversation, bool addGenerationPrompt)
    {
        var builder = new SegmentBuilder().Bos(BosToken);
        var messages = conversation.Messages;
        var lastUser = messages.Select((m, i) => (m, i)).LastOrDefault(x => x.m.Role == ChatRole.User, (null!, -1)).i;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Role == ChatRole.Assistant)
            {
                var think = emptyThinkBlock && i == messages.Count - 1 && i > lastUser ? "<think>\n\n</think>\n\n" : "";
                builder.Prompt("<|im_start|>assistant" + roleSeparator + think).Reply(message.Content + "<|im_end|>");
                if (turnSeparator.Length > 0) builder.Prompt(turnSeparator);
            }
            else
            {
                var role = message.Role == ChatRole.System ? "system" : "user";
                builder.Prompt("<|im_start|>" + role + roleSeparator + message.Content + "<|im_end|>" + turnSeparator);
            }
        }

        if (addGenerationPrompt)
        {
            builder.Prompt("<|im_start|>assistant" + roleSeparator);
        }

        return builder.Build();
    }
}
