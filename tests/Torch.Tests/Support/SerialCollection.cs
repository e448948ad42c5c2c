namespace FuseChat.Torch.Tests.Support;

/// <summary>
/// Tests that need the process to themselves: they reseed libtorch's global generator (other tests
/// drawing random numbers in parallel would consume from it) or measure the resident memory.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial";
}
