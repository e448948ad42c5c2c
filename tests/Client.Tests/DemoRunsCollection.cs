namespace FuseChat.Client.Tests;

/// <summary>
/// The tests that make a demo workspace and run a whole fusion: each saturates the cores on its own, so they take
/// turns rather than slowing each other past their time limits on a 2-core machine.
/// </summary>
[CollectionDefinition(Name)]
public sealed class DemoRunsCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "demo runs";
}
