namespace FuseChat.Grains.Runs;

/// <summary>State of <see cref="RunRegistryGrain"/>.</summary>
[GenerateSerializer]
[Alias("FuseChat.RunRegistryState")]
public sealed record RunRegistryState
{
    /// <summary>Run ids, oldest first.</summary>
    [Id(0)] public IReadOnlyList<string> RunIds { get; init; } = [];
}
