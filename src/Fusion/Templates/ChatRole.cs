namespace FuseChat.Fusion.Templates;

/// <summary>Who speaks a chat message.</summary>
public enum ChatRole
{
    /// <summary>The system prompt (first message only).</summary>
    System,

    /// <summary>The user.</summary>
    User,

    /// <summary>The model.</summary>
    Assistant,
}
