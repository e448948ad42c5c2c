namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>Status of one unit of work (one model's representations, one source's alignment, ...).</summary>
[GenerateSerializer]
[Alias("FuseChat.WorkStatus")]
public sealed record WorkStatus
{
    /// <summary>Pending before the first start, then Running and one of the final states.</summary>
    [Id(0)] public RunState State { get; init; }

    /// <summary>Fraction done, 0 to 1.</summary>
    [Id(1)] public double Progress { get; init; }

    /// <summary>What the work is doing or did, e.g. "shard 3/10".</summary>
    [Id(2)] public string Detail { get; init; } = "";

    /// <summary>The exception's message when <see cref="State"/> is Failed.</summary>
    [Id(3)] public string? Error { get; init; }

    /// <summary>When the status last changed.</summary>
    [Id(4)] public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>How many times the work was started (more than one after a silo loss or restart).</summary>
    [Id(5)] public int Attempts { get; init; }

    /// <summary>The silo that runs (or last ran) the work, as Orleans names it ("S10.0.0.7:11111:123456789"); null before the first start.</summary>
    [Id(6)] public string? Silo { get; init; }

    /// <summary>True for Completed, Failed and Cancelled.</summary>
    public bool IsFinal => State is RunState.Completed or RunState.Failed or RunState.Cancelled;
}
