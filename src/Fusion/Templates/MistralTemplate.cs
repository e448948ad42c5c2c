namespace FuseChat.Fusion.Templates;

/// <summary>
/// Mistral-Instruct / Mixtral-Instruct v0.1 (their tokenizer_config.json chat_template):
/// "&lt;s&gt;[INST] u [/INST]a&lt;/s&gt;[INST] u2 [/INST]". That template rejects system messages; here a
/// system message is put before the first user message with a blank line, as Mistral's own later
/// templates and FastChat do.
/// </summary>
internal sealed class MistralTemplate : IChatTemplate
{
    public string Name => "mistral";

    public string? BosToken => "<s>";

    public IReadOnlyList<ChatSegment> Render(Conversation conversation, bool addGenerationPrompt)
    {
        var builder = new SegmentBuilder().Bos(BosToken);
        var system = conversation.System;
        foreach (var turn in conversation.Turns)
        {
            if (turn.Role == ChatRole.User)
            {
                var content = system is null ? turn.Content : system + "\n\n" + turn.Content;
                system = null;
                builder.Prompt("[INST] " + content + " [/INST]");
            }
            else
            {
                builder.Reply(turn.Content + "</s>");
            }
        }

        // The prompt already ends with "[/INST]": generation needs nothing more.
        return builder.Build();
    }
}
