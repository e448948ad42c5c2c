using System.Diagnostics;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// The shape every worker grain of a run shares. A start call records the work, registers a reminder and
/// starts a background loop, then returns. The loop runs the library call on the thread pool (it is
/// CPU-heavy and synchronous: it must not hold the grain's scheduler), and awaits it from the grain's
/// context, where it copies progress into the state and persists it after each completed unit. After a silo
/// loss the reminder (or the run grain's next poll) reactivates the grain and restarts the loop; the library
/// skips what is already on disk. Deactivation cancels the loop and awaits it, leaving the state Running so
/// the work is restarted.
/// <para>When the silo registers an <see cref="IRunArtifactMirrorFactory"/> (no shared volume), the loop pulls the
/// work's <see cref="Inputs"/> and <see cref="Outputs"/> from the artifact store before the library call, pushes
/// the outputs from the grain's context each time a unit completes while the call goes on, and once more before the
/// status turns Completed, so the next worker, or this one on another silo, finds them.</para>
/// </summary>
/// <typeparam name="TWork">The work record.</typeparam>
public abstract class StageWorkerGrain<TWork> : Grain, IRemindable
    where TWork : class
{
    private const string ReminderName = "fusechat-work";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ProgressWriteInterval = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan CancelWait = TimeSpan.FromSeconds(10);

    private readonly IPersistentState<WorkerState<TWork>> _state;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private CancellationTokenSource? _cancellation;
    // Set in the grain context before the library call starts; read by it through PushOutputsNow and PullNow.
    private volatile RunArtifactMirror? _mirror;
    private Task? _loop;

    /// <summary>Creates the grain over its persisted state.</summary>
    /// <param name="state">The state, in storage <see cref="RunStorage.Name"/>.</param>
    /// <param name="logger">The grain's logger.</param>
    protected StageWorkerGrain(IPersistentState<WorkerState<TWork>> state, ILogger logger)
    {
        _state = state;
        Logger = logger;
    }

    /// <summary>The grain's logger.</summary>
    protected ILogger Logger { get; }

    /// <summary>The stage this grain works for (logs).</summary>
    protected abstract RunStage Stage { get; }

    /// <summary>The run to notify when the work ends.</summary>
    /// <param name="work">The work.</param>
    protected abstract string RunIdOf(TWork work);

    /// <summary>The run's output folder, under which <see cref="Inputs"/> and <see cref="Outputs"/> lie; null when the work is not mirrored.</summary>
    /// <param name="work">The work.</param>
    protected virtual string? RunOutputFolderOf(TWork work) => null;

    /// <summary>What the work reads that earlier workers wrote: folders (or files) relative to the run's output folder, '/'-separated.</summary>
    /// <param name="work">The work.</param>
    protected virtual IEnumerable<string> Inputs(TWork work) => [];

    /// <summary>What the work writes, including what it resumes from: folders (or files) relative to the run's output folder, '/'-separated.</summary>
    /// <param name="work">The work.</param>
    protected virtual IEnumerable<string> Outputs(TWork work) => [];

    /// <summary>'/'-joined path of <paramref name="path"/> relative to <paramref name="outputFolder"/>.</summary>
    /// <param name="outputFolder">The run's output folder.</param>
    /// <param name="path">A folder or file under it.</param>
    protected static string RelativeTo(string outputFolder, string path) =>
        Path.GetRelativePath(Path.GetFullPath(outputFolder), Path.GetFullPath(path)).Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>
    /// The paths among <paramref name="paths"/> that lie in the run's output folder, relative to it: models the spec
    /// gave as artifact:PREFIX (in work/artifacts) are pulled like any input; local model folders elsewhere are not.
    /// </summary>
    /// <param name="outputFolder">The run's output folder.</param>
    /// <param name="paths">Absolute folders or files.</param>
    protected static IEnumerable<string> InsideRun(string outputFolder, IEnumerable<string> paths) =>
        paths.Select(p => RelativeTo(outputFolder, p)).Where(r => !r.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(r));

    /// <summary>
    /// Does (or resumes) the work, synchronously, on a thread-pool thread; reports through
    /// <paramref name="progress"/> only. Returns a one-line summary.
    /// </summary>
    /// <param name="work">The work.</param>
    /// <param name="progress">Where to report progress and completed units.</param>
    /// <param name="cancellationToken">Cancelled on CancelAsync and on deactivation.</param>
    protected abstract string Execute(TWork work, WorkProgress progress, CancellationToken cancellationToken);

    /// <summary>Records <paramref name="work"/> if none is recorded yet, makes sure unfinished work runs, and returns the status.</summary>
    /// <param name="work">The work.</param>
    protected async Task<WorkStatus> StartWorkAsync(TWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (_state.State.Work is null)
        {
            _state.State.Work = work;
            _state.State.Status = new WorkStatus { State = RunState.Running, Detail = "queued", UpdatedAt = DateTimeOffset.UtcNow };
            await PersistAsync();
            await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
        }

        EnsureRunning();
        return _state.State.Status;
    }

    /// <inheritdoc cref="IStageWorkerGrain.GetStatusAsync"/>
    public Task<WorkStatus> GetStatusAsync() => Task.FromResult(_state.State.Status);

    /// <inheritdoc cref="IStageWorkerGrain.CancelAsync"/>
    public async Task<WorkStatus> CancelAsync()
    {
        if (_state.State.Status.IsFinal) return _state.State.Status;
        _state.State.Status = _state.State.Status with { State = RunState.Cancelled, Detail = "cancelled", UpdatedAt = DateTimeOffset.UtcNow };
        await PersistAsync();
        if (_cancellation is not null) await _cancellation.CancelAsync();

        // Libraries check the token between batches, steps and tensors; do not outwait the call's own timeout.
        if (_loop is not null) await Task.WhenAny(_loop, Task.Delay(CancelWait));
        await UnregisterReminderAsync();
        return _state.State.Status;
    }

    /// <summary>Restarts unfinished work that is not running (after reactivation); unregisters the reminder once the work is final.</summary>
    /// <param name="reminderName">The reminder.</param>
    /// <param name="status">Tick details.</param>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName) return;
        if (_state.State.Work is null || _state.State.Status.IsFinal)
        {
            await UnregisterReminderAsync();
            return;
        }

        EnsureRunning();
    }

    /// <summary>
    /// Restarts unfinished work as soon as the grain is activated again, on whichever silo: after a silo loss the
    /// first call (the run grain's status refresh or next tick) brings the work back without waiting for the reminder.
    /// </summary>
    /// <param name="cancellationToken">Activation's deadline.</param>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);
        EnsureRunning();
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Past the deadline the loop is left to stop on its own; the library leaves only complete units on disk.
        await BackgroundWork.StopAsync(_cancellation, _loop, cancellationToken);
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    private void EnsureRunning()
    {
        if (_loop is { IsCompleted: false } || _state.State.Work is not { } work || _state.State.Status.State != RunState.Running) return;
        _cancellation?.Dispose();
        _cancellation = new CancellationTokenSource();
        _loop = RunLoopAsync(work, _cancellation.Token);
    }

    private async Task RunLoopAsync(TWork work, CancellationToken cancellationToken)
    {
        // Yield so the start call returns before any work begins.
        await Task.Yield();
        var key = this.GetPrimaryKeyString();
        _state.State.Status = _state.State.Status with { Attempts = _state.State.Status.Attempts + 1, Silo = RuntimeIdentity, UpdatedAt = DateTimeOffset.UtcNow };
        await PersistAsync();
        Logger.LogInformation("Stage {Stage} work {WorkerKey} starting (attempt {Attempt})", Stage, key, _state.State.Status.Attempts);

        var mirror = MirrorOf(work);
        _mirror = mirror;
        try
        {
            if (mirror is not null) await PullAsync(mirror, work, cancellationToken);
            var summary = await RunJobAsync(work, mirror, cancellationToken);
            if (_state.State.Status.State != RunState.Running) return;
            _state.State.Status = _state.State.Status with { State = RunState.Completed, Progress = 1, Detail = summary, UpdatedAt = DateTimeOffset.UtcNow };
            Logger.LogInformation("Stage {Stage} work {WorkerKey} completed: {Summary}", Stage, key, summary);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled on request (the state says so already) or by deactivation: then the state stays
            // Running and the reminder restarts the work on the next activation.
            Logger.LogInformation("Stage {Stage} work {WorkerKey} stopped ({State})", Stage, key, _state.State.Status.State);
            return;
        }
        catch (Exception e)
        {
            if (_state.State.Status.State != RunState.Running) return;
            _state.State.Status = _state.State.Status with { State = RunState.Failed, Error = e.Message, Detail = "failed", UpdatedAt = DateTimeOffset.UtcNow };
            Logger.LogError(e, "Stage {Stage} work {WorkerKey} failed", Stage, key);
        }

        await PersistAsync();
        await UnregisterReminderAsync();
        try
        {
            await GrainFactory.GetGrain<IFusionRunGrain>(RunIdOf(work)).OnWorkerFinishedAsync(key);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The run grain polls its workers on every tick, so a lost notice only delays it.
            Logger.LogWarning(e, "Could not notify run {RunId} that {WorkerKey} finished", RunIdOf(work), key);
        }
    }

    /// <summary>
    /// Runs <see cref="Execute"/> on the thread pool, copying its progress into the state and pushing outputs after
    /// each unit, in the background so the status stays current while they upload.
    /// </summary>
    private async Task<string> RunJobAsync(TWork work, RunArtifactMirror? mirror, CancellationToken cancellationToken)
    {
        // Its own source, so that a failed push can stop the library call without looking like a deactivation.
        using var jobCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = new WorkProgress();
        var job = Task.Run(() => Execute(work, progress, jobCancellation.Token), CancellationToken.None);
        var pushes = new CoalescedPush(token => PushAsync(mirror!, work, token));
        long seenVersion = 0, seenUnits = 0;
        var sinceWrite = Stopwatch.StartNew();
        try
        {
            while (!job.IsCompleted)
            {
                await Task.WhenAny(job, Task.Delay(PollInterval, CancellationToken.None));
                // A failed upload fails the work here, at most one poll after it happened.
                await pushes.PollAsync(jobCancellation.Token);
                var (fraction, detail, version, units) = progress.Snapshot();
                if (version == seenVersion || _state.State.Status.State != RunState.Running) continue;
                seenVersion = version;
                _state.State.Status = _state.State.Status with { Progress = fraction, Detail = detail, UpdatedAt = DateTimeOffset.UtcNow };
                if (units != seenUnits || sinceWrite.Elapsed > ProgressWriteInterval)
                {
                    var unitDone = units != seenUnits;
                    seenUnits = units;
                    sinceWrite.Restart();
                    await PersistAsync();
                    // Here, not in the library call: the upload overlaps the next unit instead of delaying it.
                    if (unitDone && mirror is not null) pushes.Request(jobCancellation.Token);
                }
            }

            var summary = await job;
            await pushes.DrainAsync(jobCancellation.Token);
            if (mirror is not null && _state.State.Status.State == RunState.Running) await PushAsync(mirror, work, cancellationToken);
            return summary;
        }
        catch (Exception) when (!job.IsCompleted)
        {
            // The store failed: stop the library call (it checks the token between units) before failing the work.
            await jobCancellation.CancelAsync();
            await Task.WhenAny(job, Task.Delay(CancelWait));
            throw;
        }
        finally
        {
            pushes.Abandon();
        }
    }

    /// <summary>
    /// For coordinators, from inside <see cref="Execute"/>: pushes the work's <see cref="Outputs"/> to the artifact
    /// store now, so units started next on other silos find what this step wrote. No-op without a mirror.
    /// </summary>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">The token <see cref="Execute"/> was given.</param>
    protected void PushOutputsNow(TWork work, CancellationToken cancellationToken)
    {
        if (_mirror is not { } mirror) return;
        foreach (var folder in Outputs(work)) mirror.PushAsync(folder, cancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>
    /// For coordinators, from inside <see cref="Execute"/>: pulls what units on other silos pushed under
    /// <paramref name="relativeFolder"/> (relative to the run's output folder). No-op without a mirror.
    /// </summary>
    /// <param name="relativeFolder">A folder under the run's output folder.</param>
    /// <param name="cancellationToken">The token <see cref="Execute"/> was given.</param>
    protected void PullNow(string relativeFolder, CancellationToken cancellationToken)
    {
        if (_mirror is not { } mirror) return;
        mirror.PullAsync(relativeFolder, cancellationToken).GetAwaiter().GetResult();
    }

    private RunArtifactMirror? MirrorOf(TWork work)
    {
        if (ServiceProvider.GetService<IRunArtifactMirrorFactory>() is not { } factory || RunOutputFolderOf(work) is not { } folder) return null;
        return factory.Create(RunIdOf(work), folder);
    }

    private async Task PullAsync(RunArtifactMirror mirror, TWork work, CancellationToken cancellationToken)
    {
        var pulled = 0;
        foreach (var folder in Inputs(work).Concat(Outputs(work)).Distinct(StringComparer.Ordinal))
            pulled += await mirror.PullAsync(folder, cancellationToken);
        if (pulled > 0) Logger.LogInformation("Stage {Stage} work {WorkerKey} pulled {Files} files from the artifact store", Stage, this.GetPrimaryKeyString(), pulled);
    }

    private async Task PushAsync(RunArtifactMirror mirror, TWork work, CancellationToken cancellationToken)
    {
        foreach (var folder in Outputs(work)) await mirror.PushAsync(folder, cancellationToken);
    }

    private async Task PersistAsync()
    {
        // The loop and grain calls interleave at awaits; two concurrent writes would trip the ETag check.
        await _writes.WaitAsync();
        try
        {
            await _state.WriteStateAsync();
        }
        finally
        {
            _writes.Release();
        }
    }

    private async Task UnregisterReminderAsync()
    {
        var reminder = await this.GetReminder(ReminderName);
        if (reminder is not null) await this.UnregisterReminder(reminder);
    }
}
