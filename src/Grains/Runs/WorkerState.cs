using FuseChat.Grains.Interfaces.Runs;

namespace FuseChat.Grains.Runs;

/// <summary>What a worker grain persists (storage "fusechat"): the work it was given and its status.</summary>
/// <typeparam name="TWork">The work record.</typeparam>
[GenerateSerializer]
public sealed class WorkerState<TWork>
    where TWork : class
{
    /// <summary>The work; null until the first start.</summary>
    [Id(0)] public TWork? Work { get; set; }

    /// <summary>The status, updated at each completed unit and at the end.</summary>
    [Id(1)] public WorkStatus Status { get; set; } = new();
}
