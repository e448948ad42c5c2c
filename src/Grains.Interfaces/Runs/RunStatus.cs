namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>What a client sees of a fusion run.</summary>
[GenerateSerializer]
[Alias("FuseChat.RunStatus")]
public sealed record RunStatus
{
    /// <summary>The run id (the run grain's key).</summary>
    [Id(0)] public string RunId { get; init; } = "";

    /// <summary>Pending (not started, or rejected: see <see cref="Problems"/>), Running, or a final state.</summary>
    [Id(1)] public RunState State { get; init; }

    /// <summary>The earliest stage not yet complete; null before the start and after completion.</summary>
    [Id(2)] public RunStage? CurrentStage { get; init; }

    /// <summary>Progress of every stage, in order.</summary>
    [Id(3)] public IReadOnlyList<StageProgress> Stages { get; init; } = [];

    /// <summary>Why the run failed, naming the stage and model; null unless Failed.</summary>
    [Id(4)] public string? FailureReason { get; init; }

    /// <summary>The run's output folder (work/, fused/, report.json, report.md).</summary>
    [Id(5)] public string? OutputFolder { get; init; }

    /// <summary>The evaluation report (JSON, see FuseChat.Fusion.Evaluation.EvaluationReport) once Completed.</summary>
    [Id(6)] public string? EvaluationReportJson { get; init; }

    /// <summary>Every problem of a rejected spec; empty when the spec was accepted.</summary>
    [Id(7)] public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>The last known status of each worker grain.</summary>
    [Id(8)] public IReadOnlyList<WorkerProgress> Workers { get; init; } = [];

    /// <summary>Why a running run is not moving, e.g. no GPU silo is active; null when nothing holds it up.</summary>
    [Id(9)] public string? Waiting { get; init; }

    /// <summary>True when the spec was accepted (no problems) and the run exists.</summary>
    public bool Accepted => Problems.Count == 0 && State != RunState.Pending;
}
