namespace FuseChat.Fusion.Tokenization;

/// <summary>Raised when a tokenizer.json or tokenizer_config.json is malformed or uses a component this implementation does not support.</summary>
public sealed class TokenizerLoadException : Exception
{
    /// <summary>Creates the exception for <paramref name="filePath"/>.</summary>
    /// <param name="filePath">The file being loaded.</param>
    /// <param name="message">What is wrong, naming the component.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public TokenizerLoadException(string filePath, string message, Exception? innerException = null)
        : base($"{filePath}: {message}", innerException)
    {
        FilePath = filePath;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public TokenizerLoadException()
    {
        FilePath = string.Empty;
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What is wrong.</param>
    public TokenizerLoadException(string message)
        : base(message)
    {
        FilePath = string.Empty;
    }

    /// <summary>Creates the exception with a message and inner exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public TokenizerLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
        FilePath = string.Empty;
    }

    /// <summary>The file that could not be loaded.</summary>
    public string FilePath { get; }
}
