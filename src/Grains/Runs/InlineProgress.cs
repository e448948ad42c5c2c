namespace FuseChat.Grains.Runs;

/// <summary>
/// An <see cref="IProgress{T}"/> that calls back on the reporting thread: <see cref="Progress{T}"/> would post
/// to the captured context, and the library runs on a thread-pool thread with none worth posting to.
/// </summary>
/// <typeparam name="T">The progress value.</typeparam>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
