namespace FuseChat.Fusion.Tests.Merging;

/// <summary>Tests that depend on the exact sequence of libtorch's global generator: run after the parallel ones, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalGeneratorCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "global generator";
}
