using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Placement;
using FuseChat.Grains.Storage;
using FuseChat.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Drives a fusion run (key: the run id). Every call, reminder tick (1 minute) and worker notice runs the
/// same idempotent step: start (or poll, through the workers' idempotent start calls) every unit of work
/// whose inputs are complete, record the statuses, and move the run to Completed or Failed. So a lost notice
/// or a lost silo only delays the run until the next tick.
/// <para>Once the run has ended, its work artifacts are deleted from the artifact store when the silo registers a
/// <see cref="RunArtifactCleaner"/> whose retention asks for it (in the background, so status calls are not held up):
/// a completed run's at once, a failed or cancelled run's on a later notice or tick, when its workers have stopped
/// pushing. The reminder stays until that is done, so a store outage only delays it to a later tick.</para>
/// </summary>
public sealed class FusionRunGrain(
    [PersistentState(RunStorage.RunState, RunStorage.Name)] IPersistentState<FusionRunState> state,
    IEnumerable<IFusionRunObserver> observers,
    IServiceProvider services,
    ILogger<FusionRunGrain> logger)
    : Grain, IFusionRunGrain, IRemindable
{
    private const string ReminderName = "fusechat-run";
    private const string NoGpuSilo =
        "waiting for a GPU silo: no silo with gpu=true is active, so representations, pairwise fusion and evaluation cannot start; "
        + "the run retries every minute (start a GPU silo, or set FuseChat:Gpu:AllowCpuFallback=true to run them on CPU silos)";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RefreshTimeout = TimeSpan.FromSeconds(2);
    private DateTime _lastRefresh;
    private CancellationTokenSource? _cleanupCancellation;
    private Task? _cleanup;

    private readonly IFusionRunObserver[] _observers = [.. observers];
    private readonly FuseChatMetrics? _metrics = services.GetService<FuseChatMetrics>();
    private RunPlan? _plan;

    private string RunId => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public async Task<RunStatus> StartAsync(string specText, string specDirectory)
    {
        ArgumentNullException.ThrowIfNull(specText);
        ArgumentNullException.ThrowIfNull(specDirectory);
        if (state.State.SpecText is not null)
        {
            if (state.State.SpecText != specText)
                return Status() with { Problems = [$"run '{RunId}' already exists with another spec; choose another run id"] };

            // The same run asked for again (a rerun of `fusechat run --local` after a stop): go on at once rather than at the next tick.
            if (state.State.State == RunState.Running) await AdvanceAsync();
            return Status();
        }

        var problems = new List<string>();
        if (RunId.Length == 0 || RunId.Contains('/', StringComparison.Ordinal))
            problems.Add($"run id '{RunId}' must be non-empty and contain no '/' (it prefixes the worker keys)");
        var validation = RunSpecValidator.Validate(specText, specDirectory);
        problems.AddRange(validation.Problems);
        if (validation.Spec is { } valid) problems.AddRange(await ArtifactInputProblemsAsync(valid));
        if (problems.Count > 0 || validation.Spec is not { } spec)
        {
            logger.LogWarning("Run {RunId} rejected: {ProblemCount} problems in its spec", RunId, problems.Count);
            return new RunStatus { RunId = RunId, State = RunState.Pending, Problems = problems };
        }

        state.State.SpecText = specText;
        state.State.SpecDirectory = Path.GetFullPath(specDirectory);
        state.State.State = RunState.Running;
        state.State.OutputFolder = spec.OutputFolder;
        _plan = new RunPlan(RunId, spec);
        AddEvent(RunEventKind.RunStarted, null, $"run '{spec.Name}' started: pivot and {spec.Sources.Count} sources ({string.Join(", ", spec.Sources.Select(s => s.Name))})");
        await state.WriteStateAsync();
        await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
        logger.LogInformation("Run {RunId} started with {SourceCount} sources, output {OutputFolder}", RunId, spec.Sources.Count, spec.OutputFolder);
        await AdvanceAsync();
        return Status();
    }

    /// <inheritdoc />
    public async Task<RunStatus> GetStatusAsync()
    {
        await RefreshRunningWorkersAsync();
        return Status();
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunEvent>> GetEventsAsync(long afterSequence) =>
        Task.FromResult<IReadOnlyList<RunEvent>>([.. state.State.Events.Where(e => e.Sequence > afterSequence)]);

    /// <inheritdoc />
    public async Task<RunStatus> CancelAsync()
    {
        if (state.State.State != RunState.Running) return Status();
        await StopWorkersAsync();
        state.State.State = RunState.Cancelled;
        state.State.KeptArtifacts = KeptOutputs();
        AddEvent(RunEventKind.RunCancelled, null, "run cancelled; completed artifacts stay on disk");
        await state.WriteStateAsync();
        await SettleReminderAsync();
        logger.LogInformation("Run {RunId} cancelled", RunId);
        return Status();
    }

    /// <inheritdoc />
    public Task OnWorkerFinishedAsync(string workerKey) => AdvanceAsync();

    /// <summary>Advances the run, or retries the deletion of an ended run's work artifacts; unregisters the reminder once nothing is left to do.</summary>
    /// <param name="reminderName">The reminder.</param>
    /// <param name="status">Tick details.</param>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName) return;
        if (state.State.State == RunState.Running) await AdvanceAsync();
        else if (PendingCleaner() is not null) EnsureCleanup();
        else if (_cleanup is not { IsCompleted: false }) await UnregisterReminderAsync();
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Past the deadline the reminder runs the (idempotent) cleanup again, on whichever silo then holds the grain:
        // that silo counts the run as pending, this one no longer does.
        await BackgroundWork.StopAsync(_cleanupCancellation, _cleanup, cancellationToken);
        _metrics?.SetArtifactCleanupPending(RunId, false);
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>Models given as artifact:PREFIX and data files given as artifact:KEY must be in the artifact store, and the silos must pull them.</summary>
    private async Task<IReadOnlyList<string>> ArtifactInputProblemsAsync(RunSpec spec)
    {
        // What must exist in the store, and what to say when it does not.
        var required = RunSpecValidator.ArtifactModelPrefixes(spec)
            .Select(prefix => (Artifact: prefix, Key: $"{prefix}/config.json", Missing: $"the artifact store has no {prefix}/config.json; upload the model folder under {prefix}/ first"))
            .Concat(RunSpecValidator.ArtifactDataKeys(spec)
                .Select(key => (Artifact: key, Key: key, Missing: $"the artifact store has no file {key}; upload it first")))
            .ToList();
        if (required.Count == 0) return [];
        if (services.GetService<IRunArtifactMirrorFactory>() is null || services.GetService<IArtifactStore>() is not { } store)
            return [$"{RunSpecValidator.ArtifactScheme} paths need silos that hand artifacts over through the artifact store (FuseChat:Storage:MirrorArtifacts=true, the default in Cluster mode)"];
        var problems = new List<string>();
        foreach (var (artifact, key, missing) in required)
        {
            try
            {
                if (!await store.ExistsAsync(key)) problems.Add($"{RunSpecValidator.ArtifactScheme}{artifact}: {missing}");
            }
            catch (Exception e) when (e is StorageOperationException or IOException or TimeoutException)
            {
                problems.Add($"{RunSpecValidator.ArtifactScheme}{artifact}: could not check the artifact store: {e.Message}");
            }
        }

        return problems;
    }

    private RunPlan? Plan()
    {
        if (_plan is not null || state.State.SpecText is null) return _plan;
        var validation = RunSpecValidator.Validate(state.State.SpecText, state.State.SpecDirectory ?? ".");
        // A spec valid at the start can turn invalid later (a model folder removed): keep the problem as the reason.
        if (validation.Spec is { } spec) _plan = new RunPlan(RunId, spec);
        else state.State.FailureReason ??= "the spec is no longer valid: " + string.Join("; ", validation.Problems);
        return _plan;
    }

    private async Task AdvanceAsync()
    {
        if (state.State.State != RunState.Running)
        {
            // A late notice about an ended run: its workers have stopped, so its work can go now.
            EnsureCleanup();
            return;
        }

        var plan = Plan();
        if (plan is null)
        {
            await FailAsync(state.State.FailureReason ?? "the spec could not be read", null);
            return;
        }

        try
        {
            await DriveAsync(plan);
            if (state.State.Waiting is not null)
            {
                state.State.Waiting = null;
                AddEvent(RunEventKind.Resumed, null, "a GPU silo is active again; the run goes on");
            }
        }
        catch (Exception e) when (GpuPlacement.IsNoGpuSiloError(e))
        {
            // Stages before and beside the GPU work went on; the model work waits for a GPU silo to join.
            if (state.State.Waiting is null)
            {
                state.State.Waiting = NoGpuSilo;
                AddEvent(RunEventKind.Waiting, null, NoGpuSilo);
            }
            logger.LogWarning("Run {RunId} waits: no silo with gpu=true is active; retrying on the next tick", RunId);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            // A silo is leaving, a call timed out, ...: the next tick tries again.
            logger.LogWarning(e, "Run {RunId} could not advance now; retrying on the next tick", RunId);
        }

        RecordStageTransitions(plan);
        var failed = state.State.Workers.Values.FirstOrDefault(w => w.Status.State is RunState.Failed or RunState.Cancelled);
        if (failed is not null)
        {
            var reason = failed.Status.State == RunState.Failed
                ? $"{failed.Stage} of {failed.Model} failed: {failed.Status.Error}"
                : $"{failed.Stage} of {failed.Model} was cancelled";
            await FailAsync(reason, failed.Stage);
            return;
        }

        if (state.State.Workers.TryGetValue(EntryKey(RunId, RunStage.Evaluation), out var evaluation) && evaluation.Status.State == RunState.Completed)
        {
            state.State.ReportJson = File.Exists(plan.ReportJson) ? await File.ReadAllTextAsync(plan.ReportJson) : null;
            state.State.State = RunState.Completed;
            state.State.KeptArtifacts = KeptOutputs();
            AddEvent(RunEventKind.RunCompleted, null, $"run completed: fused model in {plan.FusedFolder}, report in {plan.ReportJson}");
            await state.WriteStateAsync();
            logger.LogInformation("Run {RunId} completed", RunId);
            // Every worker pushed its outputs before it reported Completed: nothing is still writing under runs/{run}/.
            EnsureCleanup();
            await SettleReminderAsync();
            return;
        }

        await state.WriteStateAsync();
    }

    private async Task DriveAsync(RunPlan plan)
    {
        var pivot = RunSpecValidator.PivotName;
        var representations = plan.Models.ToDictionary(m => m.Name, m =>
            Track(RunStage.Representations, plan.WorkerKey(m.Name), m.Name, GrainFactory.GetGrain<ISourceModelGrain>(plan.WorkerKey(m.Name)).StartAsync(plan.Representation(m.Name))));
        await Task.WhenAll(representations.Values);

        // Each source goes on to alignment and fusion as soon as its own inputs are ready.
        async Task<bool> SourceAsync(string source)
        {
            if ((await representations[pivot]).State != RunState.Completed || (await representations[source]).State != RunState.Completed) return false;
            var key = plan.WorkerKey(source);
            var aligned = await Track(RunStage.Alignment, key, source, GrainFactory.GetGrain<ISourceAlignmentGrain>(key).StartAsync(plan.Alignment(source)));
            if (aligned.State != RunState.Completed) return false;
            var fused = await Track(RunStage.Fusion, key, source, GrainFactory.GetGrain<IPairwiseFusionGrain>(key).StartAsync(plan.Fusion(source)));
            return fused.State == RunState.Completed;
        }

        var sources = await Task.WhenAll(plan.SourceNames.Select(SourceAsync));
        if (!sources.All(done => done)) return;
        var merged = await Track(RunStage.Merge, RunId, RunId, GrainFactory.GetGrain<IMergeStageGrain>(RunId).StartAsync(plan.Merge()));
        if (merged.State != RunState.Completed) return;
        await Track(RunStage.Evaluation, RunId, RunId, GrainFactory.GetGrain<IEvaluationStageGrain>(RunId).StartAsync(plan.Evaluation()));
    }

    private async Task<WorkStatus> Track(RunStage stage, string key, string model, Task<WorkStatus> call)
    {
        var status = await call;
        // Workers of different stages share a key ("{run}/{source}"): the stage makes the entry unique.
        state.State.Workers[EntryKey(key, stage)] = new WorkerProgress(key, stage, model, status);
        return status;
    }

    private static string EntryKey(string key, RunStage stage) => key + "#" + stage;

    private int PlannedUnits(RunStage stage, RunPlan plan) => stage switch
    {
        RunStage.Representations => plan.Models.Count,
        RunStage.Alignment or RunStage.Fusion => plan.Spec.Sources.Count,
        _ => 1,
    };

    private void RecordStageTransitions(RunPlan plan)
    {
        foreach (var stage in Enum.GetValues<RunStage>())
        {
            var workers = state.State.Workers.Values.Where(w => w.Stage == stage).ToList();
            if (workers.Count > 0 && !state.State.StartedStages.Contains(stage))
            {
                state.State.StartedStages.Add(stage);
                AddEvent(RunEventKind.StageStarted, stage, $"{stage} started");
            }

            if (workers.Count(w => w.Status.State == RunState.Completed) == PlannedUnits(stage, plan) && !state.State.CompletedStages.Contains(stage))
            {
                state.State.CompletedStages.Add(stage);
                AddEvent(RunEventKind.StageCompleted, stage, $"{stage} completed: {string.Join("; ", workers.Select(w => $"{w.Model}: {w.Status.Detail}"))}");
            }
        }
    }

    private async Task FailAsync(string reason, RunStage? stage)
    {
        state.State.FailureReason = reason;
        AddEvent(RunEventKind.Error, stage, reason);
        await StopWorkersAsync();
        state.State.State = RunState.Failed;
        state.State.KeptArtifacts = KeptOutputs();
        AddEvent(RunEventKind.RunFailed, stage, $"run failed: {reason}");
        await state.WriteStateAsync();
        await SettleReminderAsync();
        logger.LogError("Run {RunId} failed at {Stage}: {Reason}", RunId, stage, reason);
    }

    private async Task StopWorkersAsync()
    {
        var running = state.State.Workers.Where(w => !w.Value.Status.IsFinal).ToList();
        var cancels = running.Select(async entry =>
        {
            try
            {
                var status = await Worker(entry.Value.Stage, entry.Value.Key).CancelAsync();
                state.State.Workers[entry.Key] = entry.Value with { Status = status };
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                logger.LogWarning(e, "Run {RunId}: could not cancel {WorkerKey}", RunId, entry.Value.Key);
            }
        });
        await Task.WhenAll(cancels);
    }

    /// <summary>
    /// Copies the live status of unfinished workers into the run's status (not persisted: the next step writes
    /// it), so followers see steps and shards move between ticks. Calling a worker also reactivates it after a
    /// silo loss, which restarts its work from its last checkpoint. A worker that does not answer in time keeps
    /// its last known status.
    /// </summary>
    private async Task RefreshRunningWorkersAsync()
    {
        if (state.State.State != RunState.Running || DateTime.UtcNow - _lastRefresh < RefreshInterval) return;
        _lastRefresh = DateTime.UtcNow;
        var running = state.State.Workers.Where(w => !w.Value.Status.IsFinal).ToList();
        await Task.WhenAll(running.Select(async entry =>
        {
            try
            {
                var status = await Worker(entry.Value.Stage, entry.Value.Key).GetStatusAsync().WaitAsync(RefreshTimeout);
                state.State.Workers[entry.Key] = entry.Value with { Status = status };
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                logger.LogDebug(e, "Run {RunId}: no status from {WorkerKey} now", RunId, entry.Value.Key);
            }
        }));
    }

    private IStageWorkerGrain Worker(RunStage stage, string key) => stage switch
    {
        RunStage.Representations => GrainFactory.GetGrain<ISourceModelGrain>(key),
        RunStage.Alignment => GrainFactory.GetGrain<ISourceAlignmentGrain>(key),
        RunStage.Fusion => GrainFactory.GetGrain<IPairwiseFusionGrain>(key),
        RunStage.Merge => GrainFactory.GetGrain<IMergeStageGrain>(key),
        _ => GrainFactory.GetGrain<IEvaluationStageGrain>(key),
    };

    private void AddEvent(RunEventKind kind, RunStage? stage, string message)
    {
        var sequence = state.State.Events.Count == 0 ? 1 : state.State.Events[^1].Sequence + 1;
        var runEvent = new RunEvent(sequence, DateTimeOffset.UtcNow, kind, stage, message);
        state.State.Events.Add(runEvent);
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnRunEvent(RunId, runEvent);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogWarning(e, "Run observer {Observer} failed on event {Kind}", observer.GetType().Name, kind);
            }
        }
    }

    private RunStatus Status()
    {
        var plan = state.State.SpecText is null ? null : Plan();
        var stages = plan is null
            ? []
            : Enum.GetValues<RunStage>().Select(stage =>
            {
                var workers = state.State.Workers.Values.Where(w => w.Stage == stage).ToList();
                var progress = workers.Sum(w => w.Status.State == RunState.Completed ? 1 : w.Status.Progress) / PlannedUnits(stage, plan);
                return new StageProgress(stage, Math.Clamp(progress, 0, 1), string.Join("; ", workers.Select(w => $"{w.Model}: {w.Status.Detail}")));
            }).ToList();
        RunStage? current = state.State.State == RunState.Running || state.State.State == RunState.Failed || state.State.State == RunState.Cancelled
            ? Enum.GetValues<RunStage>().Cast<RunStage?>().FirstOrDefault(s => !state.State.CompletedStages.Contains(s!.Value))
            : null;
        return new RunStatus
        {
            RunId = RunId,
            State = state.State.State,
            CurrentStage = current,
            Stages = stages,
            FailureReason = state.State.FailureReason,
            OutputFolder = state.State.OutputFolder,
            EvaluationReportJson = state.State.ReportJson,
            Workers = [.. state.State.Workers.Values],
            Waiting = state.State.State == RunState.Running ? state.State.Waiting : null,
        };
    }

    /// <summary>
    /// The outputs a user reads after the run, relative to its output folder as the mirror keys them: the fused model,
    /// the reports, and each source's final target (what the report evaluates, and what a merge with another recipe
    /// needs). Null without a plan: then nothing is deleted.
    /// </summary>
    private List<string>? KeptOutputs()
    {
        if (Plan() is not { } plan) return null;
        var root = Path.GetFullPath(plan.Spec.OutputFolder);
        return [.. new[] { plan.FusedFolder, plan.ReportJson, plan.ReportMarkdown }
            .Concat(plan.SourceNames.Select(s => RunPlan.TargetFolder(plan.Spec, s)))
            .Select(p => Path.GetRelativePath(root, Path.GetFullPath(p)).Replace(Path.DirectorySeparatorChar, '/'))];
    }

    /// <summary>The cleaner, when the ended run's work is still in the store and the retention says it goes.</summary>
    private RunArtifactCleaner? PendingCleaner() =>
        state.State.State is RunState.Completed or RunState.Failed or RunState.Cancelled
        && state.State.KeptArtifacts is not null
        && !state.State.WorkArtifactsDeleted
        && services.GetService<RunArtifactCleaner>() is { } cleaner
        && cleaner.DeletesWorkOf(state.State.State)
            ? cleaner
            : null;

    private void EnsureCleanup()
    {
        if (_cleanup is { IsCompleted: false } || PendingCleaner() is not { } cleaner) return;
        _cleanupCancellation?.Dispose();
        _cleanupCancellation = new CancellationTokenSource();
        _metrics?.SetArtifactCleanupPending(RunId, true);
        _cleanup = CleanupAsync(cleaner, state.State.KeptArtifacts!, _cleanupCancellation.Token);
    }

    /// <summary>
    /// One cleanup pass, in the grain's context but beside its calls. An ended run has no other writer of its state,
    /// so the writes here cannot race the grain's own. A failure never touches the run's state: it is logged and the
    /// next tick or notice runs the pass again.
    /// </summary>
    private async Task CleanupAsync(RunArtifactCleaner cleaner, IReadOnlyCollection<string> keep, CancellationToken cancellationToken)
    {
        // Yield so the call that started it returns first.
        await Task.Yield();
        try
        {
            var result = await cleaner.DeleteWorkAsync(RunId, keep, cancellationToken);
            _metrics?.RecordArtifactCleanupPass(result.Complete, result.DeletedBytes);
            if (result.Complete) _metrics?.SetArtifactCleanupPending(RunId, false);
            state.State.DeletedArtifactFiles += result.DeletedFiles;
            state.State.DeletedArtifactBytes += result.DeletedBytes;
            if (result.Failure is { } failure)
            {
                logger.LogWarning(failure, "Run {RunId} ({State}): could not delete its work artifacts from the artifact store ({DeletedFiles} deleted so far); retrying on the next tick",
                    RunId, state.State.State, state.State.DeletedArtifactFiles);
                await state.WriteStateAsync();
                return;
            }

            state.State.WorkArtifactsDeleted = true;
            AddEvent(RunEventKind.ArtifactsDeleted, null,
                $"deleted {state.State.DeletedArtifactFiles} work artifacts ({state.State.DeletedArtifactBytes} bytes) under runs/{RunId}/ from the artifact store; "
                + $"kept {result.KeptFiles} ({result.KeptBytes} bytes) of the outputs {string.Join(", ", keep)}");
            logger.LogInformation("Run {RunId}: deleted {DeletedFiles} work artifacts ({DeletedBytes} bytes) from the artifact store, kept {KeptFiles} output artifacts ({KeptBytes} bytes)",
                RunId, state.State.DeletedArtifactFiles, state.State.DeletedArtifactBytes, result.KeptFiles, result.KeptBytes);
            await state.WriteStateAsync();
            await UnregisterReminderAsync();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Deactivation: the reminder reactivates the grain and the pass runs again.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Grain storage or the reminder service failed after the pass: the next tick repeats it, deleting nothing more.
            logger.LogWarning(e, "Run {RunId}: could not record the deletion of its work artifacts; retrying on the next tick", RunId);
        }
    }

    /// <summary>Keeps the reminder of an ended run while its work artifacts are still to be deleted; otherwise removes it.</summary>
    private async Task SettleReminderAsync()
    {
        if (PendingCleaner() is null && _cleanup is not { IsCompleted: false }) await UnregisterReminderAsync();
    }

    private async Task UnregisterReminderAsync()
    {
        var reminder = await this.GetReminder(ReminderName);
        if (reminder is not null) await this.UnregisterReminder(reminder);
    }
}
