using Orleans.Runtime;
using Orleans.Storage;

namespace FuseChat.Grains.Storage;

/// <summary>
/// The part of <see cref="IGrainStorage"/> our providers share: the runtime's calls without a token go to the
/// cancellable overloads, which each provider implements.
/// </summary>
public abstract class CancellableGrainStorage : IGrainStorage
{
    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <summary>Reads the state into <paramref name="grainState"/> (default state and no ETag when none is stored).</summary>
    /// <typeparam name="T">The state type.</typeparam>
    /// <param name="stateName">The state's name.</param>
    /// <param name="grainId">The grain.</param>
    /// <param name="grainState">Receives the state and its ETag.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public abstract Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken);

    /// <summary>Writes the state if its ETag still matches the stored one; throws InconsistentStateException otherwise.</summary>
    /// <typeparam name="T">The state type.</typeparam>
    /// <param name="stateName">The state's name.</param>
    /// <param name="grainId">The grain.</param>
    /// <param name="grainState">The state and the ETag it was read with; receives the new ETag.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public abstract Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken);

    /// <summary>Deletes (or resets) the stored state if its ETag still matches.</summary>
    /// <typeparam name="T">The state type.</typeparam>
    /// <param name="stateName">The state's name.</param>
    /// <param name="grainId">The grain.</param>
    /// <param name="grainState">The state and its ETag.</param>
    /// <param name="cancellationToken">Cancels the clear.</param>
    public abstract Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken);
}
