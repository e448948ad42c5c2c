namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>The last known status of one worker grain of a run.</summary>
/// <param name="Key">The worker grain's key, e.g. "run-1/llama3".</param>
/// <param name="Stage">The stage the worker belongs to.</param>
/// <param name="Model">The model (pivot or source name) it works on; the run id for merge and evaluation.</param>
/// <param name="Status">Its status when the run grain last heard from it.</param>
[GenerateSerializer]
[Alias("FuseChat.WorkerProgress")]
public sealed record WorkerProgress([property: Id(0)] string Key, [property: Id(1)] RunStage Stage, [property: Id(2)] string Model, [property: Id(3)] WorkStatus Status);
