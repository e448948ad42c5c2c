namespace FuseChat.Fusion.Tests.Training;

/// <summary>
/// Trainer tests switch libtorch to deterministic mode and restore its generator state, which are process-wide:
/// they run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    public const string Name = "training-serial";
}
