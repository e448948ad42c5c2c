using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace FuseChat.Grains.Placement;

/// <summary>
/// Helpers for GPU placement: the metadata key silos publish, recognising activations that failed for
/// want of a GPU silo, and retrying calls until one joins.
/// </summary>
public static class GpuPlacement
{
    /// <summary>The silo metadata key; a silo is a GPU silo when its value is <c>true</c> (ORLEANS__METADATA__gpu=true).</summary>
    public const string MetadataKey = "gpu";

    /// <summary>The status reported to callers while a GPU grain cannot be placed.</summary>
    public const string NoGpuSiloStatus = "No GPU silo yet: retried when one joins";

    /// <summary>How often <see cref="RetryUntilGpuSiloAsync{T}"/> retries unless told otherwise.</summary>
    public static readonly TimeSpan DefaultRetryInterval = TimeSpan.FromSeconds(5);

    // Orleans 10.4.2 has no dedicated exception type: when the filters leave no candidate,
    // PlacementService.GetCompatibleSilos throws an OrleansException "No active nodes are compatible
    // with grain {type} and interface ...", and placement directors handed an empty list throw
    // "... because there are no compatible silos". The same texts also describe version-incompatible
    // silos during a rolling upgrade, which a retry likewise outlasts.
    private static readonly string[] NoCandidateTexts = ["No active nodes are compatible with grain", "no compatible silos"];

    /// <summary>Whether <paramref name="metadata"/> marks its silo as a GPU silo.</summary>
    /// <param name="metadata">A silo's published metadata.</param>
    /// <returns><see langword="true"/> when the <see cref="MetadataKey"/> value parses as <see langword="true"/>.</returns>
    public static bool IsGpuSilo(SiloMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return metadata.Metadata.TryGetValue(MetadataKey, out var value)
            && bool.TryParse(value, out var isGpu)
            && isGpu;
    }

    /// <summary>
    /// Whether <paramref name="exception"/> (or an inner exception) is Orleans' failure to place an
    /// activation because no candidate silo was left, which for a <see cref="RequiresGpuAttribute"/>
    /// grain means that no GPU silo is in the cluster.
    /// </summary>
    /// <param name="exception">The exception thrown by a grain call.</param>
    /// <returns><see langword="true"/> when retrying after a GPU silo joins can succeed.</returns>
    public static bool IsNoGpuSiloError(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            // SiloUnavailableException derives from OrleansException; both are used by the directors.
            if (e is OrleansException && NoCandidateTexts.Any(text => e.Message.Contains(text, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsNoGpuSiloError))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Runs <paramref name="call"/>, and while it fails because no GPU silo exists
    /// (<see cref="IsNoGpuSiloError"/>), reports <see cref="NoGpuSiloStatus"/> and tries again after
    /// <paramref name="retryInterval"/>: each attempt runs placement anew, so the first attempt after
    /// a GPU silo has joined (and its metadata has reached the placing silo) succeeds.
    /// Other failures propagate at once.
    /// </summary>
    /// <typeparam name="T">The call's result.</typeparam>
    /// <param name="call">The grain call, typically the first call that activates a GPU grain.</param>
    /// <param name="onStatus">Receives <see cref="NoGpuSiloStatus"/> before each wait; may be <see langword="null"/>.</param>
    /// <param name="retryInterval">Time between attempts; <see cref="DefaultRetryInterval"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Ends the waiting (bound it to give up after a while).</param>
    /// <returns>The result of the first successful attempt.</returns>
    public static async Task<T> RetryUntilGpuSiloAsync<T>(
        Func<CancellationToken, Task<T>> call,
        Action<string>? onStatus = null,
        TimeSpan? retryInterval = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        var interval = retryInterval ?? DefaultRetryInterval;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(retryInterval));

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsNoGpuSiloError(e))
            {
                onStatus?.Invoke(NoGpuSiloStatus);
            }

            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>As <see cref="RetryUntilGpuSiloAsync{T}"/>, for calls without a result.</summary>
    /// <param name="call">The grain call.</param>
    /// <param name="onStatus">Receives <see cref="NoGpuSiloStatus"/> before each wait; may be <see langword="null"/>.</param>
    /// <param name="retryInterval">Time between attempts; <see cref="DefaultRetryInterval"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Ends the waiting.</param>
    /// <returns>A task that completes after the first successful attempt.</returns>
    public static Task RetryUntilGpuSiloAsync(
        Func<CancellationToken, Task> call,
        Action<string>? onStatus = null,
        TimeSpan? retryInterval = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        return RetryUntilGpuSiloAsync<bool>(
            async ct =>
            {
                await call(ct).ConfigureAwait(false);
                return true;
            },
            onStatus,
            retryInterval,
            cancellationToken);
    }
}
