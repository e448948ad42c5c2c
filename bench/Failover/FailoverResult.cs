namespace FuseChat.Bench.Failover;

/// <summary>What <see cref="FailoverScenario"/> observed.</summary>
/// <param name="Completed">The disturbed run completed on the surviving silos.</param>
/// <param name="Identical">Its fused weights equal the undisturbed run's, byte for byte.</param>
/// <param name="LostSteps">Training steps done twice: the last step the killed silo reached minus the checkpoint step the resumed training started from.</param>
/// <param name="Killed">A silo was killed during training (false: training ended before the kill point).</param>
/// <param name="Detail">Why a check failed, or a summary.</param>
public sealed record FailoverResult(bool Completed, bool Identical, long LostSteps, bool Killed, string Detail)
{
    /// <summary>The closing line the issue asks for.</summary>
    public string Line => $"failover: completed={YesNo(Completed)} identical={YesNo(Identical)} lost_steps={LostSteps}";

    /// <summary>True when the scenario passed.</summary>
    public bool Passed => Completed && Identical && Killed;

    private static string YesNo(bool value) => value ? "yes" : "no";
}
