namespace FuseChat.Fusion.Templates;

/// <summary>
/// Phi-3 and Phi-3.5 (microsoft/Phi-3.5-mini-instruct chat_template): "&lt;|system|&gt;\ns&lt;|end|&gt;\n" when there
/// is system text, "&lt;|user|&gt;\nu&lt;|end|&gt;\n", "&lt;|assistant|&gt;\na&lt;|end|&gt;\n", and, unless a
/// generation prompt follows, the end-of-text token. The reply and its "&lt;|end|&gt;" are trained; the newline after
/// it and the final end-of-text token are the template's, not the reply's. Phi-4-mini (microsoft/Phi-4-mini-instruct)
/// writes the same markers without the newlines, and a system message even when it is empty.
/// </summary>
/// <param name="name">"phi-3" or "phi-4-mini".</param>
/// <param name="newline">What follows each role marker and each "&lt;|end|&gt;": "\n" (Phi-3) or "" (Phi-4-mini).</param>
internal sealed class Phi3Template(string name = "phi-3", string newline = "\n") : IChatTemplate
{
    public string Name => name;

    public string? BosToken => null;

    public IReadOnlyList<ChatSegment> Render(Conversation conversation, bool addGenerationPrompt)
    {
        var builder = new SegmentBuilder();
        foreach (var message in conversation.Messages)
        {
            switch (message.Role)
            {
                // Phi-3.5's template skips an empty system message; Phi-4-mini's writes it.
                case ChatRole.System when message.Content.Length > 0 || newline.Length == 0:
                    builder.Prompt("<|system|>" + newline + message.Content + "<|end|>" + newline);
                    break;
                case ChatRole.User:
                    builder.Prompt("<|user|>" + newline + message.Content + "<|end|>" + newline);
                    break;
                case ChatRole.Assistant:
                    builder.Prompt("<|assistant|>" + newline).Reply(message.Content + "<|end|>");
                    if (newline.Length > 0) builder.Prompt(newline);
                    break;
            }
        }

        builder.Prompt(addGenerationPrompt ? "<|assistant|>" + newline : "<|endoftext|>");
        return builder.Build();
    }
}
