namespace FuseChat.Grains.Runs;

/// <summary>Names the run grains use for persistence; the silo registers a grain storage under <see cref="Name"/>.</summary>
public static class RunStorage
{
    /// <summary>The named grain storage every run grain writes to (file storage locally, blob storage in a cluster).</summary>
    public const string Name = "fusechat";

    /// <summary>The state name of worker grains.</summary>
    public const string WorkerState = "work";

    /// <summary>The state name of the run grain.</summary>
    public const string RunState = "run";
}
