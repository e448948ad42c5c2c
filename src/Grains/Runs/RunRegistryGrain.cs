using FuseChat.Grains.Interfaces.Runs;
using Orleans.Runtime;

namespace FuseChat.Grains.Runs;

/// <summary>Persists the ids of started runs in the "fusechat" storage.</summary>
public sealed class RunRegistryGrain([PersistentState("runs", RunStorage.Name)] IPersistentState<RunRegistryState> state) : Grain, IRunRegistryGrain
{
    /// <inheritdoc/>
    public async Task AddAsync(string runId)
    {
        if (state.State.RunIds.Contains(runId)) return;
        state.State.RunIds.Add(runId);
        await state.WriteStateAsync();
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.RunIds]);
}
