namespace FuseChat.Fusion.Templates;

/// <summary>
/// A chat conversation: an optional system message first, then user and assistant messages
/// alternating from a user message (what every supported template can render; Llama-2, Mistral and
/// Gemma templates reject anything else).
/// </summary>
public sealed class Conversation
{
    /// <summary>Creates a conversation, checking the role order.</summary>
    /// <param name="messages">The messages in order.</param>
    /// <exception cref="ArgumentException">Empty, a system message not first, or roles not alternating from a user message.</exception>
    public Conversation(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
        {
            throw new ArgumentException("a conversation needs at least one message", nameof(messages));
        }

        var first = messages[0].Role == ChatRole.System ? 1 : 0;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw new ArgumentException($"message {i} is null", nameof(messages));
            ArgumentNullException.ThrowIfNull(message.Content, $"{nameof(messages)}[{i}].Content");
            if (i < first)
            {
                continue;
            }

            var expected = (i - first) % 2 == 0 ? ChatRole.User : ChatRole.Assistant;
            if (message.Role != expected)
            {
                throw new ArgumentException(
                    $"message {i} is {message.Role} but {expected} was expected: after an optional first system message, roles must alternate user/assistant starting with user",
                    nameof(messages));
            }
        }

        Messages = [.. messages];
    }

    /// <summary>The messages in order.</summary>
    public IReadOnlyList<ChatMessage> Messages { get; }

    /// <summary>The system message's text, or null when there is none.</summary>
    public string? System => Messages[0].Role == ChatRole.System ? Messages[0].Content : null;

    /// <summary>The user and assistant messages (the system message left out).</summary>
    public IEnumerable<ChatMessage> Turns => Messages.Where(m => m.Role != ChatRole.System);
}
