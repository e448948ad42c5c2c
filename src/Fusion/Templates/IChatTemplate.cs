namespace FuseChat.Fusion.Templates;

/// <summary>A chat format: renders conversations into text segments, marking which are trained.</summary>
public interface IChatTemplate
{
    /// <summary>The template's registry name (e.g. "openchat_3.5").</summary>
    string Name { get; }

    /// <summary>The BOS text the template writes where its Jinja original writes bos_token, or null when it has none.</summary>
    string? BosToken { get; }

    /// <summary>Renders a conversation into ordered segments.</summary>
    /// <param name="conversation">The conversation.</param>
    /// <param name="addGenerationPrompt">Whether to end with the assistant prefix, for inference.</param>
    IReadOnlyList<ChatSegment> Render(Conversation conversation, bool addGenerationPrompt);

    /// <summary>The rendered text: the segments concatenated.</summary>
    /// <param name="conversation">The conversation.</param>
    /// <param name="addGenerationPrompt">Whether to end with the assistant prefix, for inference.</param>
    string RenderText(Conversation conversation, bool addGenerationPrompt) =>
        string.Concat(Render(conversation, addGenerationPrompt).Select(s => s.Text));
}
