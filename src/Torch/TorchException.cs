using System.Runtime.InteropServices;

namespace FuseChat.Torch;

/// <summary>An error raised by libtorch (shape mismatch, bad dtype, ...), carrying libtorch's own message.</summary>
public sealed class TorchException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public TorchException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public TorchException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates an exception with no message (required by the exception pattern).</summary>
    public TorchException() { }

    internal static TorchException FromNative()
    {
        var message = Marshal.PtrToStringUTF8(NativeMethods.fct_last_error());
        return new TorchException(string.IsNullOrEmpty(message) ? "libtorch reported an error without a message" : message.Trim());
    }
}
