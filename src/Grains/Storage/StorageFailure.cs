using Azure;

namespace FuseChat.Grains.Storage;

/// <summary>Turns client exceptions into <see cref="StorageOperationException"/>s that are safe to log and return.</summary>
internal static class StorageFailure
{
    /// <summary>Failures of the service or the network, as opposed to bugs and cancellations by the caller.</summary>
    public static bool IsStorageFailure(Exception e, CancellationToken ct) =>
        e is RequestFailedException or AggregateException or HttpRequestException or IOException or TimeoutException
        || (e is OperationCanceledException && !ct.IsCancellationRequested);

    public static StorageOperationException Wrap(string provider, string operation, string container, Uri endpoint, string target, Exception e, string? connectionString)
    {
        var status = e is RequestFailedException r ? r.Status : 0;
        var cause = e switch
        {
            RequestFailedException { Status: not 0 } f => $"the service answered {f.Status} {f.ErrorCode}",
            _ => Innermost(e).Message,
        };
        // The endpoint's scheme, host and port only: a SAS token would sit in the query.
        var message = $"{provider}: {operation} of '{target}' in container '{container}' at {endpoint.GetLeftPart(UriPartial.Authority)} failed: {cause}";
        return new StorageOperationException(SecretRedactor.Redact(message, connectionString), operation, container, target, status, e);
    }

    private static Exception Innermost(Exception e)
    {
        // The client's retry policy aggregates one exception per try; they share the same cause.
        while (e is AggregateException { InnerExceptions.Count: > 0 } a)
        {
            e = a.InnerExceptions[0];
        }

        return e.GetBaseException();
    }
}
