namespace FuseChat.Fusion.Templates;

/// <summary>
/// Mistral's [INST] formats. "mistral", Mistral-Instruct / Mixtral-Instruct v0.1 (their tokenizer_config.json
/// chat_template): "&lt;s&gt;[INST] u [/INST]a&lt;/s&gt;[INST] u2 [/INST]". That template rejects system messages; here
/// a system message is put before the first user message with a blank line, as Mistral's own later templates and
/// FastChat do. "mistral-nemo", the Tekken tokenizer's v3 format (Mistral NeMo): no spaces inside the markers,
/// "&lt;s&gt;[INST]u[/INST]a&lt;/s&gt;", and the system message before the user message that ends the conversation, as
/// its template puts it: a conversation that ends with a reply renders without it.
/// </summary>
internal sealed class MistralTemplate(string name = "mistral", bool spaced = true, bool systemOnLastUser = false) : IChatTemplate
{
    public string Name => name;

    public string? BosToken => "<s>";

    public IReadOnlyList<ChatSegment> Render(Conversation conversation, bool addGenerationPrompt)
    {
        var builder = new SegmentBuilder().Bos(BosToken);
        var system = conversation.System;
        var turns = conversation.Turns.ToList();
        // Tekken's template adds the system message to the user message that ends the conversation, and to none when a
        // reply ends it (a whole training conversation): the model never saw it elsewhere.
        var systemAt = !systemOnLastUser ? turns.FindIndex(t => t.Role == ChatRole.User)
            : turns.Count > 0 && turns[^1].Role == ChatRole.User ? turns.Count - 1 : -1;

        var (open, close) = spaced ? ("[INST] ", " [/INST]") : ("[INST]", "[/INST]");
        for (var i = 0; i < turns.Count; i++)
        {
            var turn = turns[i];
            if (turn.Role == ChatRole.User)
            {
                var content = system is not null && i == systemAt ? system + "\n\n" + turn.Content : turn.Content;
                builder.Prompt(open + content + close);
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
