namespace FuseChat.Fusion.Templates;

/// <summary>One message of a conversation.</summary>
/// <param name="Role">Who speaks.</param>
/// <param name="Content">The text.</param>
public sealed record ChatMessage(ChatRole Role, string Content);
