namespace FuseChat.Grains.Storage;

/// <summary>
/// A storage operation failed for a reason other than an ETag conflict: the service is unreachable, refused
/// the credentials, or answered with an error. The message names the operation and the container but never
/// carries a connection string or key.
/// </summary>
public sealed class StorageOperationException : Exception
{
    /// <summary>Creates an exception with a message only.</summary>
    public StorageOperationException()
        : this("A storage operation failed.")
    {
    }

    /// <summary>Creates an exception with a message only.</summary>
    /// <param name="message">What failed.</param>
    public StorageOperationException(string message)
        : base(message)
    {
        Operation = string.Empty;
        Container = string.Empty;
        Target = string.Empty;
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public StorageOperationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = string.Empty;
        Container = string.Empty;
        Target = string.Empty;
    }

    /// <summary>Creates an exception describing a failed operation.</summary>
    /// <param name="message">The full, already redacted message.</param>
    /// <param name="operation">The operation, such as "read", "write", "clear", "open for write".</param>
    /// <param name="container">The container or folder.</param>
    /// <param name="target">The blob, file or artifact path.</param>
    /// <param name="status">The HTTP status the service answered with; 0 when it did not answer.</param>
    /// <param name="innerException">The cause.</param>
    public StorageOperationException(string message, string operation, string container, string target, int status, Exception? innerException)
        : base(message, innerException)
    {
        Operation = operation;
        Container = container;
        Target = target;
        Status = status;
    }

    /// <summary>The operation that failed.</summary>
    public string Operation { get; }

    /// <summary>The container (blob storage) or folder (file storage).</summary>
    public string Container { get; }

    /// <summary>The blob, file or artifact path.</summary>
    public string Target { get; }

    /// <summary>The HTTP status the service answered with; 0 when it did not answer (connection refused, timeout).</summary>
    public int Status { get; }
}
