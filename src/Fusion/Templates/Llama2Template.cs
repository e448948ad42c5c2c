namespace FuseChat.Fusion.Templates;

/// <summary>
/// Llama-2-chat (meta-llama/Llama-2-*-chat-hf chat_template): every user turn is
/// "&lt;s&gt;[INST] [&lt;&lt;SYS&gt;&gt;\nsystem\n&lt;&lt;/SYS&gt;&gt;\n\n]u [/INST]" and every reply " a &lt;/s&gt;"
/// (contents stripped). The reply's leading space is trained text because it becomes part of the
/// reply's first token.
/// </summary>
internal sealed class Llama2Template : IChatTemplate
{
    public string Name => "llama-2";

    public string? BosToken => "<s>";

    public IReadOnlyList<ChatSegment> Render(Conversation conversation, bool addGenerationPrompt)
    {
        var builder = new SegmentBuilder();
        var system = conversation.System;
        foreach (var turn in conversation.Turns)
        {
            if (turn.Role == ChatRole.User)
            {
                var content = system is null ? turn.Content : "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + turn.Content;
                system = null;
                builder.Bos(BosToken).Prompt("[INST] " + content.Trim() + " [/INST]");
            }
            else
            {
                builder.Reply(" " + turn.Content.Trim() + " </s>");
            }
        }

        return builder.Build();
    }
}
