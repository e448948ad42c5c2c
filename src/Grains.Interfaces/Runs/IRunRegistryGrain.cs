namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>The list of runs ever started (one grain, key <see cref="Key"/>), so clients can list them.</summary>
public interface IRunRegistryGrain : IGrainWithStringKey
{
    /// <summary>The registry's only key.</summary>
    const string Key = "runs";

    /// <summary>Records a run id (idempotent).</summary>
    Task AddAsync(string runId);

    /// <summary>Every recorded run id, oldest first.</summary>
    Task<IReadOnlyList<string>> ListAsync();
}
