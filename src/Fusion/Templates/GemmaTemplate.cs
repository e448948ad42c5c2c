namespace FuseChat.Fusion.Templates;

/// <summary>
/// Gemma (2/3) instruction format: "&lt;bos&gt;&lt;start_of_turn&gt;user\n[system\n\n]u&lt;end_of_turn&gt;\n
/// &lt;start_of_turn&gt;model\na&lt;end_of_turn&gt;\n" (contents trimmed; Gemma has no system role, so the
/// system text opens the first user turn as in Gemma 3's template).
/// </summary>
internal sealed class GemmaTemplate : IChatTemplate
{
    private const string ModelPrefix = "<start_of_turn>model\n";

    public string Name => "gemma";

    public string? BosToken => "<bos>";

    public IReadOnlyList<ChatSegment> Render(Conversation conversation, bool addGenerationPrompt)
    {
        var builder = new SegmentBuilder().Bos(BosToken);
        var system = conversation.System;
        foreach (var turn in conversation.Turns)
        {
            if (turn.Role == ChatRole.User)
            {
                var prefix = system is null ? string.Empty : system + "\n\n";
                system = null;
                builder.Prompt("<start_of_turn>user\n" + prefix + turn.Content.Trim() + "<end_of_turn>\n");
            }
            else
            {
                builder.Prompt(ModelPrefix).Reply(turn.Content.Trim() + "<end_of_turn>").Prompt("\n");
            }
        }

        if (addGenerationPrompt)
        {
            builder.Prompt(ModelPrefix);
        }

        return builder.Build();
    }
}
