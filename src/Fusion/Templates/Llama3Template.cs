namespace FuseChat.Fusion.Templates;

/// <summary>
/// Llama-3-Instruct: "&lt;|begin_of_text|&gt;" then per message
/// "&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;" (content trimmed).
/// </summary>
internal sealed class Llama3Template : IChatTemplate
{
    private const string AssistantHeader = "<|start_header_id|>assistant<|end_header_id|>\n\n";

    public string Name => "llama-3";

    public string? BosToken => "<|begin_of_text|>";

    public IReadOnlyList<ChatSegment> Render(Conversation conversation, bool addGenerationPrompt)
    {
        var builder = new SegmentBuilder().Bos(BosToken);
        foreach (var message in conversation.Messages)
        {
            if (message.Role == ChatRole.Assistant)
            {
                builder.Prompt(AssistantHeader).Reply(message.Content.Trim() + "<|eot_id|>");
            }
            else
            {
                var role = message.Role == ChatRole.System ? "system" : "user";
                builder.Prompt("<|start_header_id|>" + role + "<|end_header_id|>\n\n" + message.Content.Trim() + "<|eot_id|>");
            }
        }

        if (addGenerationPrompt)
        {
            builder.Prompt(AssistantHeader);
        }

        return builder.Build();
    }
}
