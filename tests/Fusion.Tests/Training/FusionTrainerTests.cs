using System.Runtime.InteropServices;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Planning;
using FuseChat.Fusion.Tests.Checkpoints;
using FuseChat.Fusion.Training;
using FuseChat.Testing.Support;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class FusionTrainerTests : IDisposable
{
    public FusionTrainerTests() => TorchRuntime.SetDeterministic(true);

    public void Dispose() => TorchRuntime.SetDeterministic(false);

    // 11 micro-batches per epoch, 2 per step: 6 steps per epoch (the last with one micro-batch), 12 in all.
    private static FusionTrainerOptions ResumeOptions(string folder) => new()
    {
        LearningRate = 1e-2, WarmupRatio = 0.2, MinLearningRate = 1e-4, WeightDecay = 0.01, Epochs = 2,
        GradientAccumulationSteps = 2, MaxGradNorm = 0.5, Seed = 7, CheckpointFolder = folder, CheckpointEvery = 5, KeepCheckpoints = 2,
    };

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.BFloat16)]
    public void ResumingFromACheckpointGivesBitIdenticalWeights(DType dtype)
    {
        using var straightFolder = new TempFolder();
        using var resumedFolder = new TempFolder();
        using var initial = TrainingFixtures.NewModel(dtype, seed: 3);

        Dictionary<string, byte[]> expected;
        List<byte[]> expectedOptimizer;
        var logs = new List<FusionStepLog>();
        // The weights are copied after the trainer exists on purpose: its fp32 masters must pick them up.
        using (var model = TrainingFixtures.NewModel(dtype, seed: 99))
        using (var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(11), shuffleSeed: 5))
        using (var trainer = new FusionTrainer(model, source, ResumeOptions(straightFolder.Path)))
        {
            TrainingFixtures.CopyWeights(initial, model);
            trainer.Log = logs.Add;
            Assert.Equal(12, trainer.TotalSteps);
            trainer.Train();
            Assert.True(trainer.IsComplete);
            expected = TrainingFixtures.WeightBytes(model);
            expectedOptimizer = TrainingFixtures.OptimizerBytes(trainer);
        }
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), logs.Select(l => l.Step));
        Assert.All(logs, l => Assert.True(double.IsFinite(l.Loss) && l.GradNorm > 0 && l.Tokens > 0 && l.TokensPerSecond > 0));
        Assert.Equal(40, logs[0].Tokens);
        Assert.Equal(20, logs[5].Tokens);   // last step of the epoch: one micro-batch
        // Checkpoints at 5, 10 and 12; the last two are kept.
        Assert.Equal([10L, 12L], FusionTrainer.ListCheckpoints(straightFolder.Path).Select(c => c.Step));

        using (var model = TrainingFixtures.NewModel(dtype, seed: 98))
        using (var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(11), shuffleSeed: 5))
        {
            TrainingFixtures.CopyWeights(initial, model);
            using var trainer = new FusionTrainer(model, source, ResumeOptions(resumedFolder.Path));
            trainer.Train(stopAfterStep: 5);
            Assert.Equal(5, trainer.Step);
        }

        // A fresh model with other weights, a fresh source and a fresh trainer.
        var checkpoint = FusionTrainer.FindLatestCheckpoint(resumedFolder.Path);
        Assert.EndsWith("checkpoint-00000005", checkpoint);
        TorchRuntime.ManualSeed(12345);
        using (var model = TrainingFixtures.NewModel(dtype, seed: 1234))
        using (var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(11), shuffleSeed: 5))
        using (var trainer = new FusionTrainer(model, source, ResumeOptions(resumedFolder.Path)))
        {
            trainer.Resume(checkpoint!);
            Assert.Equal(5, trainer.Step);
            Assert.Equal((0, 10), (trainer.Epoch, trainer.BatchIndex));
            trainer.Train();
            var actual = TrainingFixtures.WeightBytes(model);
            Assert.Equal(expected.Keys, actual.Keys);
            foreach (var (name, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{name} differs after resuming");
            var actualOptimizer = TrainingFixtures.OptimizerBytes(trainer);
            Assert.Equal(expectedOptimizer.Count, actualOptimizer.Count);
            for (var i = 0; i < expectedOptimizer.Count; i++) Assert.True(expectedOptimizer[i].AsSpan().SequenceEqual(actualOptimizer[i]), $"optimizer tensor {i} differs");
        }
        Assert.Equal([10L, 12L], FusionTrainer.ListCheckpoints(resumedFolder.Path).Select(c => c.Step));
    }

    // Settings that change where or how a step is computed but not its arithmetic: a run that takes its first 5 steps
    // with the first setting and the rest, resumed from a checkpoint, with the second must give the plain run's weights.
    [Theory]
    [InlineData(DType.Float32, "checkpointing", "plain")]
    [InlineData(DType.BFloat16, "checkpointing", "plain")]
    [InlineData(DType.Float32, "offload", "plain")]
    [InlineData(DType.BFloat16, "offload", "plain")]
    [InlineData(DType.Float32, "plain", "offload")]
    [InlineData(DType.BFloat16, "offload", "offload")]
    public void ComputeSettingsLeaveTheTrajectoryBitIdenticalAndResumeEitherWay(DType dtype, string first, string rest)
    {
        using var plainFolder = new TempFolder();
        using var switchedFolder = new TempFolder();
        using var initial = TrainingFixtures.NewModel(dtype, seed: 3);
        FusionTrainerOptions With(string setting, string folder) => setting switch
        {
            "plain" => ResumeOptions(folder),
            "checkpointing" => ResumeOptions(folder) with { GradientCheckpointing = true },
            // The CPU is the only device here: the state stays on it, but fp32 parameters get masters too.
            "offload" => ResumeOptions(folder) with { OptimizerStateDevice = Device.Cpu },
            _ => throw new ArgumentOutOfRangeException(nameof(setting)),
        };

        Dictionary<string, byte[]> expected;
        using (var model = TrainingFixtures.NewModel(dtype, seed: 99))
        using (var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(11), shuffleSeed: 5))
        using (var trainer = new FusionTrainer(model, source, ResumeOptions(plainFolder.Path)))
        {
            TrainingFixtures.CopyWeights(initial, model);
            trainer.Train();
            expected = TrainingFixtures.WeightBytes(model);
        }

        using (var model = TrainingFixtures.NewModel(dtype, seed: 98))
        using (var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(11), shuffleSeed: 5))
        using (var trainer = new FusionTrainer(model, source, With(first, switchedFolder.Path)))
        {
            TrainingFixtures.CopyWeights(initial, model);
            trainer.Train(stopAfterStep: 5);
            // bf16 parameters always have fp32 masters; with the state offloaded, fp32 ones get them too.
            Assert.Equal(first == "offload" || dtype == DType.BFloat16, trainer.Optimizer.MasterWeights.All(m => m is not null));
        }
        using (var model = TrainingFixtures.NewModel(dtype, seed: 97))
        using (var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(11), shuffleSeed: 5))
        using (var trainer = new FusionTrainer(model, source, With(rest, switchedFolder.Path)))
        {
            trainer.Resume(FusionTrainer.FindLatestCheckpoint(switchedFolder.Path)!);
            Assert.Equal(5, trainer.Step);
            trainer.Train();
            var actual = TrainingFixtures.WeightBytes(model);
            foreach (var (name, bytes) in expected)
                Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{name} differs between the plain run and the one switched from {first} to {rest}");
        }
    }

    // The head and loss in chunks of 3 trained positions (many per micro-batch) against one chunk: the same training,
    // up to the order of the sums in the head's weight gradient.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ChunkingTheHeadChangesTheWeightsOnlyByRounding(bool checkpointing)
    {
        using var initial = TrainingFixtures.NewModel(DType.Float32, seed: 3);
        float[] Train(int? chunk)
        {
            using var model = TrainingFixtures.NewModel(DType.Float32, seed: 4);
            using var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(6), shuffleSeed: 5);
            using var trainer = new FusionTrainer(model, source, new FusionTrainerOptions
            {
                LearningRate = 1e-3, Epochs = 2, Seed = 3, GradientCheckpointing = checkpointing, HeadChunkTokens = chunk,
            });
            TrainingFixtures.CopyWeights(initial, model);
            trainer.Train();
            return [.. TrainingFixtures.WeightBytes(model).OrderBy(p => p.Key, StringComparer.Ordinal)
                .SelectMany(p => MemoryMarshal.Cast<byte, float>(p.Value).ToArray())];
        }

        var whole = Train(1 << 20);
        var chunked = Train(3);
        var initialWeights = TrainingFixtures.WeightBytes(initial).OrderBy(p => p.Key, StringComparer.Ordinal)
            .SelectMany(p => MemoryMarshal.Cast<byte, float>(p.Value).ToArray()).ToArray();
        var moved = whole.Zip(initialWeights, (a, b) => Math.Abs(a - b)).Max();
        var difference = whole.Zip(chunked, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(moved > 1e-3, $"training moved the weights by {moved} at most");
        Assert.True(difference < 1e-5, $"chunked and whole heads differ by {difference}");
    }

    [Fact]
    public void ALongRunWithRecomputedLayersAndAnOffloadedStateKeepsResidentMemoryFlat()
    {
        // 4 x 64-token micro-batches: each checkpointed pass keeps [4, 64, 16] layer inputs and tables outside any
        // scope, so a pass that failed to free them would leak tens of KiB per micro-batch, over 100 MiB in this run.
        using var model = TrainingFixtures.NewModel(DType.BFloat16, seed: 5);
        using var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(8, batchSize: 4, length: 64), shuffleSeed: 1);
        using var trainer = new FusionTrainer(model, source, new FusionTrainerOptions
        {
            LearningRate = 1e-3, Epochs = 700, GradientAccumulationSteps = 2, Seed = 3,
            GradientCheckpointing = true, OptimizerStateDevice = Device.Cpu,
        });

        trainer.Train(stopAfterStep: 200);
        var before = ProcessMemory.SettledResidentBytes(); // also lets earlier tests' garbage be finalized before the count starts
        var (liveBefore, finalizedBefore) = (Tensor.LiveCount, Tensor.FinalizedCount);
        trainer.Train(stopAfterStep: 2800);
        var (liveAfter, finalizedAfter) = (Tensor.LiveCount, Tensor.FinalizedCount);
        var after = ProcessMemory.SettledResidentBytes();

        Assert.Equal(2800, trainer.Step);
        // Every tensor a step makes is disposed by the step: none is left alive, none is left to the finalizer.
        Assert.Equal(liveBefore, liveAfter);
        Assert.Equal(finalizedBefore, Tensor.FinalizedCount);
        Assert.Equal(finalizedBefore, finalizedAfter);
        Assert.True(after - before < 24L << 20, $"resident memory grew by {(after - before) / (double)(1 << 20):F1} MiB over 2600 steps");
    }

    [Theory]
    [InlineData(DType.Float32, false)]
    [InlineData(DType.Float32, true)]
    [InlineData(DType.BFloat16, false)]
    [InlineData(DType.BFloat16, true)]
    public void ACheckpointHoldsTheTensorBytesThePlanEstimates(DType dtype, bool offloaded)
    {
        using var folder = new TempFolder();
        using var model = TrainingFixtures.NewModel(dtype, seed: 4);
        using var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(4), shuffleSeed: 1);
        using var trainer = new FusionTrainer(model, source, ResumeOptions(folder.Path) with
        {
            GradientAccumulationSteps = 1, OptimizerStateDevice = offloaded ? Device.Cpu : null,
        });

        trainer.Train(stopAfterStep: 1);
        var checkpoint = trainer.SaveCheckpoint();

        long tensorBytes = 0;
        foreach (var file in Directory.EnumerateFiles(checkpoint, "*.safetensors", SearchOption.AllDirectories))
        {
            using var safetensors = SafetensorsFile.Open(file);
            tensorBytes += safetensors.Tensors.Sum(t => t.ByteLength);
        }
        Assert.Equal(ResourceEstimate.CheckpointBytes(ResourceEstimate.Parameters(TrainingFixtures.Config), dtype, offloaded), tensorBytes);
    }

    [Fact]
    public void OffloadMovesTheOptimizerStateToTheHostOnlyForAModelOnAGpu()
    {
        Assert.Equal(Device.Cpu, FusionTrainerOptions.OffloadTarget(true, Device.Cuda(1)));
        Assert.Null(FusionTrainerOptions.OffloadTarget(true, Device.Cpu));
        Assert.Null(FusionTrainerOptions.OffloadTarget(false, Device.Cuda()));
    }

    [Fact]
    public void NaNWeightStopsTheRunNamingTheStepAndKeepsTheLastCheckpoint()
    {
        using var folder = new TempFolder();
        var options = ResumeOptions(folder.Path) with { CheckpointEvery = 2 };
        using var model = TrainingFixtures.NewModel(seed: 4);
        using var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(11));
        using (var trainer = new FusionTrainer(model, source, options))
        {
            trainer.Train(stopAfterStep: 2);
            var good = TrainingFixtures.WeightBytes(model);
            using (NoGradScope.Enter())
                model.NamedParameters().First(p => p.Name == "model.norm.weight").Tensor.FillInPlace(double.NaN);
            var error = Assert.Throws<FusionTrainingException>(() => trainer.Train());
            Assert.Equal(3, error.Step);
            Assert.Contains("optimiser step 3", error.Message, StringComparison.Ordinal);
            Assert.Contains("non-finite loss", error.Message, StringComparison.Ordinal);
            Assert.Equal(2, trainer.Step);

            var checkpoints = FusionTrainer.ListCheckpoints(folder.Path);
            Assert.Equal([2L], checkpoints.Select(c => c.Step));
            Assert.Empty(Directory.EnumerateDirectories(folder.Path, ".tmp*"));
            using var fresh = TrainingFixtures.NewModel(seed: 5);
            using var resumed = new FusionTrainer(fresh, source, options);
            resumed.Resume(checkpoints[0].Path);
            var loaded = TrainingFixtures.WeightBytes(fresh);
            foreach (var (name, bytes) in good) Assert.True(bytes.AsSpan().SequenceEqual(loaded[name]), name);
            resumed.Train(stopAfterStep: 3);
            Assert.Equal(3, resumed.Step);
        }
    }

    [Fact]
    public void InfiniteTargetLogitStopsTheRunBeforeAnyUpdate()
    {
        using var folder = new TempFolder();
        var batches = TrainingFixtures.Batches(6);
        using (NoGradScope.Enter()) batches[3].TargetLogits.Select(0, 0).Select(0, 3).Select(0, 0).FillInPlace(double.PositiveInfinity);
        using var model = TrainingFixtures.NewModel(seed: 6);
        using var source = new InMemoryFusionBatchSource(batches);
        using var trainer = new FusionTrainer(model, source, ResumeOptions(folder.Path) with { CheckpointEvery = 1, Epochs = 1 });
        var error = Assert.Throws<FusionTrainingException>(() => trainer.Train());
        // Micro-batch 3 belongs to the second optimiser step (micro-batches 2 and 3).
        Assert.Equal((2L, 0, 3), (error.Step, error.Epoch, error.BatchIndex));
        Assert.Equal([1L], FusionTrainer.ListCheckpoints(folder.Path).Select(c => c.Step));
    }

    [Fact]
    public void TwoMicroBatchesOfOneEqualOneBatchOfTwo()
    {
        using var initial = TrainingFixtures.NewModel(seed: 8);
        var both = TrainingFixtures.Batches(1, batchSize: 2, seed: 40);
        using var scope = DisposeScope.Open();
        var halves = new List<FusionBatch>();
        for (var i = 0; i < 2; i++)
            halves.Add(new FusionBatch(both[0].Ids.Narrow(0, i, 1).Clone(), both[0].Labels.Narrow(0, i, 1).Clone(),
                both[0].TargetIds.Narrow(0, i, 1).Clone(), both[0].TargetLogits.Narrow(0, i, 1).Clone()));
        var options = new FusionTrainerOptions { LearningRate = 1e-2, WarmupRatio = 0, Epochs = 1, MaxGradNorm = 0.3 };

        (Dictionary<string, Tensor> Weights, FusionStepLog Log) Run(List<FusionBatch> batches, int accumulation)
        {
            using var model = TrainingFixtures.NewModel(seed: 9);
            TrainingFixtures.CopyWeights(initial, model);
            using var source = new InMemoryFusionBatchSource(batches);
            using var trainer = new FusionTrainer(model, source, options with { GradientAccumulationSteps = accumulation });
            FusionStepLog? log = null;
            trainer.Log = l => log = l;
            trainer.Train();
            Assert.Equal(1, trainer.Step);
            return (model.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.Detach().Clone()), log!);
        }

        var (one, oneLog) = Run(both, 1);
        var (two, twoLog) = Run(halves, 2);
        Assert.Equal(oneLog.Loss, twoLog.Loss, 1e-5);
        Assert.Equal(oneLog.GradNorm, twoLog.GradNorm, 1e-5);
        Assert.True(oneLog.GradNorm > 0.3, "the step should exercise clipping");
        foreach (var (name, w) in one)
        {
            var max = (w - two[name]).Abs().Max().ToDouble();
            Assert.True(max < 1e-5, $"{name}: max difference {max}");
        }
    }

    [Fact]
    public void LossDecreasesOnALearnableTarget()
    {
        using var model = TrainingFixtures.NewModel(seed: 10);
        using var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(20, batchSize: 4, length: 12, seed: 77), shuffleSeed: 1);
        var options = new FusionTrainerOptions { LearningRate = 2e-2, WarmupRatio = 0.1, Epochs = 2, MaxGradNorm = 1.0 };
        using var trainer = new FusionTrainer(model, source, options);
        var logs = new List<FusionStepLog>();
        trainer.Log = logs.Add;
        trainer.Train();
        Assert.Equal(40, logs.Count);
        var first = logs.Take(3).Average(l => l.Loss);
        var last = logs.TakeLast(3).Average(l => l.Loss);
        Assert.True(last < 0.5 * first, $"loss went from {first} to {last}");
        Assert.True(logs[^1].CrossEntropy < logs[0].CrossEntropy && logs[^1].Fusion < logs[0].Fusion);
        Assert.Equal(0, logs[0].LearningRate);   // warmup starts at 0
        Assert.Equal(2e-2, logs.Max(l => l.LearningRate), 1e-12);
    }

    [Fact]
    public void SaveTargetWritesALoadableHuggingFaceFolder()
    {
        using var folder = new TempFolder();
        using var model = TrainingFixtures.NewModel(DType.BFloat16, seed: 11);
        using var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(2));
        using var trainer = new FusionTrainer(model, source, new FusionTrainerOptions { LearningRate = 1e-2, Epochs = 1 });
        trainer.Train();
        trainer.SaveTarget(folder.Path, TrainingFixtures.Config);
        var (loaded, config) = PretrainedModel.Load(folder.Path, DType.BFloat16);
        using (loaded)
        {
            Assert.Equal("bfloat16", config.TorchDtype);
            var expected = TrainingFixtures.WeightBytes(model);
            foreach (var (name, bytes) in TrainingFixtures.WeightBytes(loaded)) Assert.True(bytes.AsSpan().SequenceEqual(expected[name]), name);
        }
    }

    [Fact]
    public void ResumeRefusesACheckpointOfOtherOptions()
    {
        using var folder = new TempFolder();
        using var model = TrainingFixtures.NewModel(seed: 12);
        using var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(4));
        var options = ResumeOptions(folder.Path) with { GradientAccumulationSteps = 1 };
        using (var trainer = new FusionTrainer(model, source, options)) trainer.Train(stopAfterStep: 1);
        using var other = new FusionTrainer(model, source, options with { Lambda = 0.5 });
        var error = Assert.Throws<InvalidOperationException>(() => other.Resume(FusionTrainer.FindLatestCheckpoint(folder.Path)!));
        Assert.Contains("other options", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnInterruptedCheckpointWriteIsIgnoredAndCleanedUp()
    {
        using var folder = new TempFolder();
        using var model = TrainingFixtures.NewModel(seed: 13);
        using var source = new InMemoryFusionBatchSource(TrainingFixtures.Batches(4));
        var options = ResumeOptions(folder.Path) with { GradientAccumulationSteps = 1, KeepCheckpoints = 1 };
        using var trainer = new FusionTrainer(model, source, options);
        trainer.Train(stopAfterStep: 1);
        // What a crash in the middle of writing step 2 leaves behind.
        var partial = Directory.CreateDirectory(Path.Combine(folder.Path, ".tmp-checkpoint-00000002-dead"));
        File.WriteAllText(Path.Combine(partial.FullName, "model.safetensors"), "truncated");
        Assert.EndsWith("checkpoint-00000001", FusionTrainer.FindLatestCheckpoint(folder.Path));
        trainer.Train(stopAfterStep: 2);
        Assert.False(partial.Exists && Directory.Exists(partial.FullName));
        Assert.Equal([2L], FusionTrainer.ListCheckpoints(folder.Path).Select(c => c.Step));
    }

    [Fact]
    public void MinCeTargetsOfAConversationTrainThroughABatch()
    {
        var (ids, labels, pivot) = TrainingFixtures.Conversation(seed: 14, length: 8);
        var (_, _, source) = TrainingFixtures.Conversation(seed: 15, length: 8);
        var (targets, usedSource) = MinCeSelection.Select(pivot, 1.2, source, 0.8);
        Assert.True(usedSource);
        using var model = TrainingFixtures.NewModel(seed: 16);
        using var batches = new InMemoryFusionBatchSource([FusionBatch.FromConversation(ids, labels, targets)]);
        using var trainer = new FusionTrainer(model, batches, new FusionTrainerOptions { LearningRate = 1e-2, Epochs = 3 });
        var logs = new List<FusionStepLog>();
        trainer.Log = logs.Add;
        trainer.Train();
        Assert.Equal(3, logs.Count);
        Assert.True(logs[^1].Loss < logs[0].Loss);
    }
}
