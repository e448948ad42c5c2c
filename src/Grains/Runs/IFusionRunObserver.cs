using FuseChat.Grains.Interfaces.Runs;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Hears every event a run grain records (stage transitions, errors, final states): register
/// implementations as singletons in the silo's services to feed metrics or logs. Called on the grain's
/// scheduler: return quickly and do not block; exceptions are logged and ignored.
/// </summary>
public interface IFusionRunObserver
{
    /// <summary>Called after the run grain recorded <paramref name="runEvent"/> (before it is persisted).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="runEvent">The event.</param>
    void OnRunEvent(string runId, RunEvent runEvent);
}
