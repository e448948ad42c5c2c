namespace FuseChat.Grains.Runs;

/// <summary>
/// State of <see cref="RunRegistryGrain"/>. Grain state is stored as JSON with type names: collections must be
/// concrete types (a collection expression behind an interface becomes a compiler-made type that no silo may read back).
/// </summary>
[GenerateSerializer]
[Alias("FuseChat.RunRegistryState")]
public sealed class RunRegistryState
{
    /// <summary>Run ids, oldest first.</summary>
    [Id(0)] public List<string> RunIds { get; set; } = [];
}
