namespace FuseChat.Bench.Failover;

/// <summary>What <see cref="FailoverScenario"/> observed.</summary>
/// <param name="Completed">The disturbed run completed on the surviving silos.</param>
/// <param name="Identical">Its fused weights equal the undisturbed run's, byte for byte.</param>
/// <param name="LostSteps">Training steps done twice: the last step the killed silo reached minus the checkpoint step the resumed training started from.</param>
/// <param name="Killed">A silo was killed during training (false: training ended before the kill point).</param>
/// <param name="SavedAtKill">The step of the newest checkpoint a restarted worker could find when the silo was killed (in the store without a shared disk).</param>
/// <param name="ResumedAt">The checkpoint step the resumed training started from (0: from the start).</param>
/// <param name="Detail">Why a check failed, or a summary.</param>
public sealed record FailoverResult(bool Completed, bool Identical, long LostSteps, bool Killed, long SavedAtKill, long ResumedAt, string Detail)
{
    /// <summary>The closing line the issue asks for.</summary>
    public string Line => $"failover: completed={YesNo(Completed)} identical={YesNo(Identical)} lost_steps={LostSteps} saved_at_kill={SavedAtKill} resumed_at={ResumedAt}";

    /// <summary>True when the scenario passed: nothing saved before the kill was redone.</summary>
    public bool Passed => Completed && Identical && Killed && ResumedAt >= SavedAtKill;

    private static string YesNo(bool value) => value ? "yes" : "no";
}
