namespace FuseChat.Fusion.Templates;

/// <summary>
/// OpenChat-3.5 (FastChat "openchat_3.5", FuseChat's pivot format):
/// "&lt;s&gt;[system&lt;|end_of_turn|&gt;]GPT4 Correct User: u&lt;|end_of_turn|&gt;GPT4 Correct Assistant: a&lt;|end_of_turn|&gt;".
/// The space after "Assistant:" belongs to the reply: SentencePiece and byte-level tokenizers both
/// attach a leading space to the next word ("▁Hello"), so that token lies inside the trained text.
/// </summary>
internal sealed class OpenChatTemplate : IChatTemplate
{
    private const string EndOfTurn = "<|end_of_turn|>";

    public string Name => "openchat_3.5";

    public string? BosToken => "<s>";

    public IReadOnlyList<ChatSegment> Render(Conversation conversation, bool addGenerationPrompt)
    {
        var builder = new SegmentBuilder().Bos(BosToken);
        if (conversation.System is { } system)
        {
            // FastChat's FALCON_CHAT style: the system text alone, then the separator.
            builder.Prompt(system + EndOfTurn);
        }

        foreach (var turn in conversation.Turns)
        {
            if (turn.Role == ChatRole.User)
            {
                builder.Prompt("GPT4 Correct User: " + turn.Content + EndOfTurn);
            }
            else
            {
                builder.Prompt("GPT4 Correct Assistant:").Reply(" " + turn.Content + EndOfTurn);
            }
        }

        if (addGenerationPrompt)
        {
            builder.Prompt("GPT4 Correct Assistant:");
        }

        return builder.Build();
    }
}
