namespace FuseChat.Grains.Runs;

/// <summary>
/// Progress handed from a library call on a thread-pool thread to its grain: the library's callbacks write
/// here (never to grain state, which only the grain's scheduler may touch) and the grain reads the latest
/// value and persists when a unit of work (a shard, a checkpoint) has completed.
/// </summary>
public sealed class WorkProgress
{
    private readonly Lock _lock = new();
    private double _fraction;
    private string _detail = "";
    private long _version;
    private long _units;

    /// <summary>Records the latest progress.</summary>
    /// <param name="fraction">Fraction done, clamped to 0..1.</param>
    /// <param name="detail">What is being done.</param>
    /// <param name="unitDone">True when a resumable unit has just completed on disk, so the grain persists now.</param>
    public void Report(double fraction, string detail, bool unitDone = false)
    {
        lock (_lock)
        {
            _fraction = double.IsFinite(fraction) ? Math.Clamp(fraction, 0, 1) : 0;
            _detail = detail;
            _version++;
            if (unitDone) _units++;
        }
    }

    /// <summary>The latest values; <c>Version</c> grows on every report, <c>Units</c> on every completed unit.</summary>
    public (double Fraction, string Detail, long Version, long Units) Snapshot()
    {
        lock (_lock)
        {
            return (_fraction, _detail, _version, _units);
        }
    }
}
