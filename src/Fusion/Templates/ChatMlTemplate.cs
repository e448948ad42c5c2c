namespace FuseChat.Fusion.Templates;

/// <summary>
/// ChatML ("&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n"), used by Qwen and, after a "&lt;s&gt;" BOS,
/// by InternLM2-chat. The newline after "&lt;|im_end|&gt;" is a separator, not part of the reply.
/// </summary>
internal sealed class ChatMlTemplate(string name, string? bosToken) : IChatTemplate
{
    public string Name => name;

    public string? BosToken => bosToken;

    public IReadOnlyList<ChatSegment> Render(Conversation conversation, bool addGenerationPrompt)
    {
        var builder = new SegmentBuilder().Bos(BosToken);
        foreach (var message in conversation.Messages)
        {
            if (message.Role == ChatRole.Assistant)
            {
                builder.Prompt("<|im_start|>assistant\n").Reply(message.Content + "<|im_end|>").Prompt("\n");
            }
            else
            {
                var role = message.Role == ChatRole.System ? "system" : "user";
                builder.Prompt("<|im_start|>" + role + "\n" + message.Content + "<|im_end|>\n");
            }
        }

        if (addGenerationPrompt)
        {
            builder.Prompt("<|im_start|>assistant\n");
        }

        return builder.Build();
    }
}
