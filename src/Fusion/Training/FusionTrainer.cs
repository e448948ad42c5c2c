using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Torch;
using FuseChat.Torch.Optim;

namespace FuseChat.Fusion.Training;

/// <summary>
/// Pairwise fusion (METHOD.md stage 3): fine-tunes a <see cref="LlamaModel"/> (the pivot) on the
/// <see cref="FusionLoss"/> with AdamW, a cosine schedule with warmup, gradient accumulation and global-norm
/// clipping, writing resumable checkpoints.
/// </summary>
/// <remarks>
/// <para>Parameters keep the model's dtype: a model built in bf16 is trained in bf16 while AdamW updates fp32
/// master copies. The trainer does not own the model or the source.</para>
/// <para>Steps. One epoch has ceil(BatchesPerEpoch / N) optimiser steps of N micro-batches; the last step of an
/// epoch may have fewer, and its micro-batch losses are scaled by 1/(that count). Each micro-batch's loss is a
/// mean over its own positions, so accumulation equals one large batch exactly when micro-batches hold equal
/// numbers of trained positions.</para>
/// <para>Checkpoints. checkpoint-NNNNNNNN/ holds model.safetensors (parameters, Hugging Face names, own dtype),
/// optimizer/model.safetensors (exp_avg.NAME, exp_avg_sq.NAME, master.NAME) and trainer_state.json
/// (<see cref="FusionCheckpointState"/>). A checkpoint is written to a hidden temporary folder and renamed
/// when complete; older checkpoints are deleted only afterwards. No .NET generator is used (the data order is
/// a pure function of the epoch), so libtorch's generator is the only random state saved.</para>
/// <para>Failure. A non-finite loss or gradient norm raises <see cref="FusionTrainingException"/> before the
/// optimiser step, and nothing is written, so the last checkpoint remains the last good state.</para>
/// </remarks>
public sealed class FusionTrainer : IDisposable
{
    /// <summary>File name of the trainer state inside a checkpoint folder.</summary>
    public const string StateFileName = "trainer_state.json";

    /// <summary>Subfolder of a checkpoint holding the optimiser state.</summary>
    public const string OptimizerFolderName = "optimizer";

    private const string CheckpointPrefix = "checkpoint-";
    private const string TemporaryPrefix = ".tmp-checkpoint-";
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private readonly LlamaModel model;
    private readonly IFusionBatchSource source;
    private readonly FusionTrainerOptions options;
    private readonly List<(string Name, Tensor Tensor)> parameters;
    private readonly IReadOnlyList<Tensor> parameterTensors;
    private readonly AdamW optimizer;
    private readonly CosineSchedule schedule;
    private readonly FusionLoss loss;
    private readonly int headChunkRows;
    private readonly string optionsHash;
    private readonly Device device;
    private bool started;
    private long lastCheckpointStep = -1;

    /// <summary>Prepares a fresh run (step 0); call <see cref="Resume"/> before <see cref="Train"/> to continue a checkpoint instead.</summary>
    public FusionTrainer(LlamaModel model, IFusionBatchSource source, FusionTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (source.BatchesPerEpoch < 1) throw new ArgumentException("the batch source is empty", nameof(source));
        this.model = model;
        this.source = source;
        this.options = options;
        parameters = model.NamedParameters().ToList();
        parameterTensors = parameters.Select(p => p.Tensor).ToList();
        device = parameterTensors[0].Device;
        StepsPerEpoch = (source.BatchesPerEpoch + options.GradientAccumulationSteps - 1) / options.GradientAccumulationSteps;
        TotalSteps = (long)StepsPerEpoch * options.Epochs;
        schedule = CosineSchedule.WithWarmupRatio(options.LearningRate, options.WarmupRatio, TotalSteps, options.MinLearningRate);
        loss = new FusionLoss(options.Lambda, options.Temperature);
        headChunkRows = options.HeadChunkTokens ?? LlamaModel.HeadChunk(model.Config.VocabSize);
        optionsHash = options.TrajectoryHash(source.Fingerprint);
        optimizer = new AdamW(parameterTensors, new AdamWOptions
        {
            LearningRate = options.LearningRate, Beta1 = options.Beta1, Beta2 = options.Beta2,
            Epsilon = options.Epsilon, WeightDecay = options.WeightDecay, StateDevice = options.OptimizerStateDevice,
        });
    }

    /// <summary>Called after every optimiser step.</summary>
    public Action<FusionStepLog>? Log { get; set; }

    /// <summary>Called after every checkpoint written (metrics: duration and size).</summary>
    public Action<FusionCheckpointLog>? CheckpointWritten { get; set; }

    /// <summary>Optimiser steps completed.</summary>
    public long Step { get; private set; }

    /// <summary>Optimiser steps per epoch.</summary>
    public int StepsPerEpoch { get; }

    /// <summary>Optimiser steps of the whole run.</summary>
    public long TotalSteps { get; }

    /// <summary>Input tokens processed so far.</summary>
    public long TokensSeen { get; private set; }

    /// <summary>The schedule giving each step's learning rate.</summary>
    public CosineSchedule Schedule => schedule;

    /// <summary>The optimiser (its state is what checkpoints save).</summary>
    public AdamW Optimizer => optimizer;

    /// <summary>The newest checkpoint folder written or resumed from, if any.</summary>
    public string? LastCheckpoint { get; private set; }

    /// <summary>True when every step has been taken.</summary>
    public bool IsComplete => Step >= TotalSteps;

    /// <summary>Epoch of the next micro-batch.</summary>
    public int Epoch => (int)(Step / StepsPerEpoch);

    /// <summary>Index within its epoch of the next micro-batch.</summary>
    public int BatchIndex => (int)(Step % StepsPerEpoch) * options.GradientAccumulationSteps;

    /// <summary>
    /// Trains until the run is complete, or until <paramref name="stopAfterStep"/> steps are completed (the
    /// schedule still spans the whole run). Writes checkpoints every <see cref="FusionTrainerOptions.CheckpointEvery"/>
    /// steps and one when it returns, when a checkpoint folder is set.
    /// </summary>
    /// <exception cref="FusionTrainingException">The loss or the gradient norm was not finite.</exception>
    public void Train(long? stopAfterStep = null, CancellationToken cancellationToken = default)
    {
        if (!started && Step == 0)
        {
            TorchRuntime.ManualSeed(options.Seed);
            // AdamW copied low-precision parameters into its fp32 masters when it was created; weights loaded into
            // the model after that (e.g. the pivot's) must reach the masters, or the first step would undo them.
            using var noGrad = NoGradScope.Enter();
            for (var i = 0; i < parameterTensors.Count; i++) optimizer.MasterWeights[i]?.CopyFrom(parameterTensors[i]);
        }
        started = true;
        var until = Math.Min(TotalSteps, stopAfterStep ?? TotalSteps);
        model.Train();
        while (Step < until)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TrainStep();
            if (options.CheckpointFolder is not null && options.CheckpointEvery > 0 && Step % options.CheckpointEvery == 0)
                SaveCheckpoint();
        }
        if (options.CheckpointFolder is not null && lastCheckpointStep != Step) SaveCheckpoint();
    }

    private void TrainStep()
    {
        var stopwatch = Stopwatch.StartNew();
        var epoch = Epoch;
        var first = BatchIndex;
        var count = Math.Min(options.GradientAccumulationSteps, source.BatchesPerEpoch - first);
        var learningRate = schedule.At(Step);
        optimizer.LearningRate = learningRate;
        double totalSum = 0, ceSum = 0, fusionSum = 0;
        long tokens = 0;
        try
        {
            for (var m = 0; m < count; m++)
            {
                using var scope = DisposeScope.Open();
                using var batch = source.GetBatch(epoch, first + m);
                var ids = batch.Ids.To(device);
                var labels = batch.Labels.To(device);
                var targetIds = batch.TargetIds.To(device);
                var targetLogits = batch.TargetLogits.To(device);
                // The layers run first (recomputed later with checkpointing); the head and the loss then run over
                // chunks of trained positions, each back-propagated into the last layer's output, and the layers'
                // backward pass starts from the gradient gathered there.
                using var checkpointed = options.GradientCheckpointing ? model.ForwardCheckpointedHeadless(ids) : null;
                var body = checkpointed is null ? model.Body(ids) : null;
                var hidden = checkpointed?.Hidden ?? body!.Detach().RequiresGradient();
                var parts = loss.BackwardInChunks(model.Head, hidden, labels, targetIds, targetLogits, headChunkRows, 1.0 / count);
                var total = parts.Total.ToDouble();
                if (!double.IsFinite(total))
                    throw new FusionTrainingException(
                        $"non-finite loss ({total.ToString(CultureInfo.InvariantCulture)}) at optimiser step {Step + 1} " +
                        $"(epoch {epoch}, micro-batch {first + m}); no update was applied and the last checkpoint " +
                        $"({LastCheckpoint ?? "none"}) is the last good state")
                    { Step = Step + 1, Epoch = epoch, BatchIndex = first + m };
                // A micro-batch without a trained position back-propagates nothing (representations drop such
                // conversations, so this is a corner case).
                if (hidden.Grad is { } gradient)
                {
                    if (checkpointed is not null) checkpointed.BackwardFromHidden();
                    else body!.Backward(gradient);
                }
                totalSum += total;
                ceSum += parts.CrossEntropy.ToDouble();
                fusionSum += parts.Fusion.ToDouble();
                tokens += ids.NumberOfElements;
            }
            var gradNorm = GradientClipping.ClipGradNorm(parameterTensors, options.MaxGradNorm);
            if (!double.IsFinite(gradNorm))
                throw new FusionTrainingException(
                    $"non-finite gradient norm ({gradNorm.ToString(CultureInfo.InvariantCulture)}) at optimiser step {Step + 1} " +
                    $"(epoch {epoch}); no update was applied and the last checkpoint ({LastCheckpoint ?? "none"}) is the last good state")
                { Step = Step + 1, Epoch = epoch };
            optimizer.Step();
            Step++;
            TokensSeen += tokens;
            var seconds = stopwatch.Elapsed.TotalSeconds;
            Log?.Invoke(new FusionStepLog(Step, TotalSteps, epoch, totalSum / count, ceSum / count, fusionSum / count,
                learningRate, gradNorm, tokens, seconds > 0 ? tokens / seconds : 0));
        }
        finally
        {
            optimizer.ZeroGrad();
        }
    }

    /// <summary>
    /// Writes a checkpoint of the current state under the checkpoint folder and returns its path; the folder
    /// appears under its final name only when complete, and older checkpoints beyond
    /// <see cref="FusionTrainerOptions.KeepCheckpoints"/> are deleted afterwards.
    /// </summary>
    public string SaveCheckpoint()
    {
        var root = options.CheckpointFolder ?? throw new InvalidOperationException("no checkpoint folder is set in the options");
        Directory.CreateDirectory(root);
        foreach (var stale in Directory.EnumerateDirectories(root, TemporaryPrefix + "*"))
            Directory.Delete(stale, recursive: true);
        var stopwatch = Stopwatch.StartNew();
        var name = CheckpointName(Step);
        var final = Path.Combine(root, name);
        var temporary = Path.Combine(root, $"{TemporaryPrefix}{Step:D8}-{Guid.NewGuid():N}");
        try
        {
            WriteCheckpoint(temporary);
            if (Directory.Exists(final))
            {
                // Same step written again (a run resumed from an earlier checkpoint): swap, then delete the old one.
                var old = Path.Combine(root, $"{TemporaryPrefix}{Step:D8}-old-{Guid.NewGuid():N}");
                Directory.Move(final, old);
                Directory.Move(temporary, final);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temporary, final);
            }
        }
        catch
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
            throw;
        }
        lastCheckpointStep = Step;
        LastCheckpoint = final;
        if (CheckpointWritten is { } written)
        {
            var bytes = new DirectoryInfo(final).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
            written(new FusionCheckpointLog(Step, final, bytes, stopwatch.Elapsed));
        }
        Prune(root);
        return final;
    }

    private void WriteCheckpoint(string folder)
    {
        using var noGrad = NoGradScope.Enter();
        WriteTensors(folder, parameters);
        var state = new List<(string, Tensor)>();
        for (var i = 0; i < parameters.Count; i++)
        {
            var n = parameters[i].Name;
            state.Add(("exp_avg." + n, optimizer.ExpAvg[i]));
            state.Add(("exp_avg_sq." + n, optimizer.ExpAvgSq[i]));
            if (optimizer.MasterWeights[i] is { } master) state.Add(("master." + n, master));
        }
        WriteTensors(Path.Combine(folder, OptimizerFolderName), state);
        var checkpointState = new FusionCheckpointState
        {
            Step = Step,
            TotalSteps = TotalSteps,
            WarmupSteps = schedule.WarmupSteps,
            LearningRate = Step == 0 ? 0 : schedule.At(Step - 1),
            OptimizerStepCount = optimizer.StepCount,
            Epoch = Epoch,
            BatchIndex = BatchIndex,
            TokensSeen = TokensSeen,
            TorchRngState = Convert.ToBase64String(TorchRuntime.GetRngState()),
            OptionsHash = optionsHash,
            ParameterDType = parameterTensors[0].DType.ShortName(),
        };
        var path = Path.Combine(folder, StateFileName);
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, checkpointState, JsonOptions);
            stream.Flush(flushToDisk: true);
        }
    }

    private static void WriteTensors(string folder, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        var declarations = tensors.Select(t => new TensorDeclaration(t.Name, t.Tensor.DType.ToSafetensors(), [.. t.Tensor.Shape])).ToList();
        using var writer = new ShardedCheckpointWriter(folder, declarations, PretrainedModel.DefaultMaxShardBytes);
        foreach (var (name, tensor) in tensors) writer.WriteTensor(name, tensor, tensor.DType);
        writer.Complete();
    }

    private void Prune(string root)
    {
        if (options.KeepCheckpoints <= 0) return;
        var all = ListCheckpoints(root);
        foreach (var (_, path) in all.Take(Math.Max(0, all.Count - options.KeepCheckpoints)))
            Directory.Delete(path, recursive: true);
    }

    /// <summary>
    /// Loads a checkpoint written by a run with the same options and data into this fresh trainer and its model,
    /// so that <see cref="Train"/> continues exactly where that run was.
    /// </summary>
    public void Resume(string checkpointFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointFolder);
        if (started || Step != 0) throw new InvalidOperationException("resume a fresh trainer, before it trains");
        var statePath = Path.Combine(checkpointFolder, StateFileName);
        var state = JsonSerializer.Deserialize<FusionCheckpointState>(File.ReadAllText(statePath))
            ?? throw new InvalidDataException($"{statePath} is empty");
        if (state.OptionsHash != optionsHash)
            throw new InvalidOperationException($"checkpoint {checkpointFolder} was written with other options or data (hash {state.OptionsHash}, this run {optionsHash})");
        if (state.TotalSteps != TotalSteps)
            throw new InvalidOperationException($"checkpoint {checkpointFolder} plans {state.TotalSteps} steps, this run {TotalSteps}");
        if (state.Step < 0 || state.Step > TotalSteps) throw new InvalidDataException($"checkpoint {checkpointFolder} is at step {state.Step} of {TotalSteps}");
        var expectedEpoch = (int)(state.Step / StepsPerEpoch);
        var expectedBatch = (int)(state.Step % StepsPerEpoch) * options.GradientAccumulationSteps;
        if (state.Epoch != expectedEpoch || state.BatchIndex != expectedBatch)
            throw new InvalidDataException($"checkpoint {checkpointFolder}: data position (epoch {state.Epoch}, batch {state.BatchIndex}) does not match step {state.Step}");

        using (var noGrad = NoGradScope.Enter())
        {
            using (var reader = CheckpointReader.Open(checkpointFolder))
                foreach (var (name, tensor) in parameters) Load(reader, name, tensor);
            using var optimizerReader = CheckpointReader.Open(Path.Combine(checkpointFolder, OptimizerFolderName));
            for (var i = 0; i < parameters.Count; i++)
            {
                var n = parameters[i].Name;
                Load(optimizerReader, "exp_avg." + n, optimizer.ExpAvg[i]);
                Load(optimizerReader, "exp_avg_sq." + n, optimizer.ExpAvgSq[i]);
                if (optimizer.MasterWeights[i] is not { } master) continue;
                // A checkpoint of a run whose optimiser state stayed with fp32 parameters has no masters for them:
                // the weights just loaded are that state.
                if (!optimizerReader.Contains("master." + n) && parameters[i].Tensor.DType is DType.Float32 or DType.Float64)
                    master.CopyFrom(parameters[i].Tensor);
                else
                    Load(optimizerReader, "master." + n, master);
            }
        }
        optimizer.StepCount = state.OptimizerStepCount;
        Step = state.Step;
        TokensSeen = state.TokensSeen;
        TorchRuntime.SetRngState(Convert.FromBase64String(state.TorchRngState));
        started = true;
        lastCheckpointStep = Step;
        LastCheckpoint = checkpointFolder;
    }

    private static void Load(CheckpointReader reader, string name, Tensor destination)
    {
        if (!reader.Contains(name)) throw new InvalidDataException($"checkpoint {reader.Folder} has no tensor '{name}'");
        using var staging = reader.ReadTensor(name);
        if (!staging.Shape.AsSpan().SequenceEqual(destination.Shape) || staging.DType != destination.DType)
            throw new InvalidDataException(
                $"checkpoint {reader.Folder}: '{name}' is {staging.DType.ShortName()} [{string.Join(", ", staging.Shape)}], " +
                $"expected {destination.DType.ShortName()} [{string.Join(", ", destination.Shape)}]");
        destination.CopyFrom(staging);
    }

    /// <summary>
    /// Writes the trained model as a Hugging Face folder (config.json and safetensors) in
    /// <paramref name="dtype"/>, by default the parameters' own dtype.
    /// </summary>
    public void SaveTarget(string folder, ModelConfig modelConfig, DType? dtype = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(modelConfig);
        PretrainedModel.Save(model, modelConfig, folder, dtype ?? parameterTensors[0].DType);
    }

    /// <summary>Completed checkpoints under <paramref name="root"/>, oldest first.</summary>
    public static IReadOnlyList<(long Step, string Path)> ListCheckpoints(string root)
    {
        if (!Directory.Exists(root)) return [];
        return Directory.EnumerateDirectories(root, CheckpointPrefix + "*")
            .Select(p => (Ok: long.TryParse(Path.GetFileName(p).AsSpan(CheckpointPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var s), Step: s, Path: p))
            .Where(c => c.Ok && File.Exists(Path.Combine(c.Path, StateFileName)))
            .OrderBy(c => c.Step)
            .Select(c => (c.Step, c.Path))
            .ToList();
    }

    /// <summary>The newest completed checkpoint under <paramref name="root"/>, or null.</summary>
    public static string? FindLatestCheckpoint(string root)
    {
        var all = ListCheckpoints(root);
        return all.Count == 0 ? null : all[^1].Path;
    }

    private static string CheckpointName(long step) => string.Create(CultureInfo.InvariantCulture, $"{CheckpointPrefix}{step:D8}");

    /// <summary>Frees the optimiser state (not the model or the source).</summary>
    public void Dispose() => optimizer.Dispose();
}
