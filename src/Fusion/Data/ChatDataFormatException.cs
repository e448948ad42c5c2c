namespace FuseChat.Fusion.Data;

/// <summary>A malformed record in a chat data file; the message names the file and the line.</summary>
public sealed class ChatDataFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/> line <paramref name="lineNumber"/>.</summary>
    public ChatDataFormatException(string path, int lineNumber, string problem, Exception? inner = null)
        : base($"{path}:{lineNumber}: {problem}", inner)
    {
        Path = path;
        LineNumber = lineNumber;
    }

    /// <summary>The data file.</summary>
    public string Path { get; } = "";

    /// <summary>1-based line of the malformed record.</summary>
    public int LineNumber { get; }

    /// <summary>Required by the exception pattern.</summary>
    public ChatDataFormatException() { }

    /// <summary>Required by the exception pattern.</summary>
    public ChatDataFormatException(string message) : base(message) { }

    /// <summary>Required by the exception pattern.</summary>
    public ChatDataFormatException(string message, Exception inner) : base(message, inner) { }
}
