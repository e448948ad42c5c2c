namespace FuseChat.Fusion.Templates;

/// <summary>
/// Phi-3 and Phi-3.5 (microsoft/Phi-3.5-mini-instruct chat_template): "&lt;|system|&gt;\ns&lt;|end|&gt;\n" when there
/// is system text, "&lt;|user|&gt;\nu&lt;|end|&gt;\n", "&lt;|assistant|&gt;\na&lt;|end|&gt;\n", and, unless a
/// generation prompt follows, the end-of-text token. The reply and its "&lt;|end|&gt;" are trained; the newline after
/// it and the final end-of-text token are the template's, not the reply's.
/// </summary>
internal sealed class Phi3Template : IChatTemplate
{
    public string Name => "phi-3";

    public string? BosToken => null;

    public IReadOnlyList<ChatSegment> Render(Conversation conversation, bool addGenerationPrompt)
    {
        var builder = new SegmentBuilder();
        foreach (var message in conversation.Messages)
        {
            switch (message.Role)
            {
                case ChatRole.System when message.Content.Length > 0:
                    builder.Prompt("<|system|>\n" + message.Content + "<|end|>\n");
                    break;
                case ChatRole.User:
                    builder.Prompt("<|user|>\n" + message.Content + "<|end|>\n");
                    break;
                case ChatRole.Assistant:
                    builder.Prompt("<|assistant|>\n").Reply(message.Content + "<|end|>").Prompt("\n");
                    break;
            }
        }

        builder.Prompt(addGenerationPrompt ? "<|assistant|>\n" : "<|endoftext|>");
        return builder.Build();
    }
}
