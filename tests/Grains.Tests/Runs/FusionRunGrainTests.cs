using System.Diagnostics;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Evaluation;
using FuseChat.Fusion.Merging;
using FuseChat.Fusion.Models;
using FuseChat.Grains.Runs;
using FuseChat.Torch;
using FuseChat.Grains.Interfaces.Runs;
using Orleans.Core.Internal;
using Xunit.Abstractions;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>Fusion runs through the grains on one in-process silo, with tiny models.</summary>
public sealed class FusionRunGrainTests(RunClusterFixture fixture, ITestOutputHelper output) : IClassFixture<RunClusterFixture>
{
    private async Task<RunStatus> WaitForAsync(IFusionRunGrain run, Func<RunStatus, bool> done, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = await run.GetStatusAsync();
            if (done(status)) return status;
            if (clock.Elapsed > limit)
                Assert.Fail($"run still {status.State} at {status.CurrentStage} after {limit}: {string.Join(" | ", status.Stages.Select(s => $"{s.Stage} {s.Progress:F2} {s.Detail}"))}");
            await Task.Delay(250);
        }
    }

    private static bool Final(RunStatus s) => s.State is RunState.Completed or RunState.Failed or RunState.Cancelled;

    [Fact]
    public async Task PivotAndTwoSourcesRunToCompletion()
    {
        var (folder, spec) = fixture.NewRun("complete");
        using var measurements = new FusionMeasurements();
        var run = fixture.Client.GetGrain<IFusionRunGrain>("complete");
        var started = await run.StartAsync(spec, folder);
        Assert.Empty(started.Problems);
        Assert.Equal(RunState.Running, started.State);

        var clock = Stopwatch.StartNew();
        var status = await WaitForAsync(run, Final, TimeSpan.FromSeconds(150));
        output.WriteLine($"finished in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var e in await run.GetEventsAsync(0)) output.WriteLine($"{e.Sequence} {e.Kind} {e.Stage} {e.Message}");
        Assert.True(status.State == RunState.Completed, $"run {status.State}: {status.FailureReason}");
        Assert.Null(status.CurrentStage);
        Assert.Equal(Enum.GetValues<RunStage>(), status.Stages.Select(s => s.Stage));
        Assert.All(status.Stages, s => Assert.Equal(1.0, s.Progress));

        var outputFolder = Path.Combine(folder, "out");
        Assert.Equal(outputFolder, status.OutputFolder);
        foreach (var source in new[] { "llama3", "qwen3" })
        {
            Assert.True(File.Exists(Path.Combine(outputFolder, "work", "reps", source, "manifest.json")) || Directory.EnumerateFiles(Path.Combine(outputFolder, "work", "reps", source)).Any());
            Assert.True(Directory.EnumerateFiles(Path.Combine(outputFolder, "work", "aligned", source)).Any());
            Assert.True(File.Exists(Path.Combine(outputFolder, "work", "targets", source, "config.json")));
            Assert.True(File.Exists(Path.Combine(outputFolder, "work", "targets", source, "tokenizer.json")));
        }

        Assert.True(File.Exists(Path.Combine(outputFolder, "fused", "config.json")));
        Assert.True(File.Exists(Path.Combine(outputFolder, "report.md")));
        var report = EvaluationReport.FromJson(status.EvaluationReportJson!);
        Assert.Equal(["pivot", "target-llama3", "target-qwen3", "fused"], report.Models.Select(m => m.Model));
        Assert.All(report.Models, m => Assert.True(m.Perplexity > 0));
        Assert.Equal(status.EvaluationReportJson, await File.ReadAllTextAsync(Path.Combine(outputFolder, "report.json")));

        var events = await run.GetEventsAsync(0);
        Assert.Equal(RunEventKind.RunStarted, events[0].Kind);
        Assert.Equal(RunEventKind.RunCompleted, events[^1].Kind);
        foreach (var stage in Enum.GetValues<RunStage>())
        {
            Assert.Contains(events, e => e.Kind == RunEventKind.StageStarted && e.Stage == stage);
            Assert.Contains(events, e => e.Kind == RunEventKind.StageCompleted && e.Stage == stage);
        }

        Assert.Equal(events.Skip(3).ToList(), await run.GetEventsAsync(events[2].Sequence));

        // Each source's alignment was spread over per-shard units (8 chats in shards of 4: two shards, two phases).
        foreach (var source in new[] { "llama3", "qwen3" })
        {
            foreach (var phase in new[] { "count", "align" })
            {
                foreach (var shard in new[] { 0, 1 })
                {
                    var unit = await fixture.Client.GetGrain<IAlignmentShardGrain>($"complete/{source}/{phase}/{shard}").GetStatusAsync();
                    Assert.True(unit.State == RunState.Completed, $"{source} {phase} shard {shard}: {unit.State} {unit.Detail}");
                }
            }
        }

        // The fusion workers fed the training series: tokens, throughput, loss per source, checkpoints.
        measurements.Collect();
        Assert.True(measurements.Sum("fusechat.tokens", ("stage", "fusion")) > 0, "no fusion tokens recorded");
        Assert.True(measurements.Sum("fusechat.tokens", ("stage", "representations")) > 0, "no representation tokens recorded");
        Assert.True(measurements.Sum("fusechat.tokens", ("stage", "alignment")) > 0, "no alignment tokens recorded");
        Assert.True(measurements.Last("fusechat.tokens.rate", ("run", "complete"), ("stage", "alignment")) > 0, "no alignment tokens/s recorded");
        Assert.True(measurements.Sum("fusechat.checkpoint.bytes", ("stage", "fusion")) > 0, "no checkpoint bytes recorded");
        foreach (var source in new[] { "llama3", "qwen3" })
        {
            var loss = measurements.Last("fusechat.training.loss", ("run", "complete"), ("source", source));
            Assert.True(loss is > 0 and < 100, $"training loss of {source}: {loss}");
        }
        Assert.True(measurements.Last("fusechat.tokens.rate", ("run", "complete"), ("stage", "fusion")) > 0, "no fusion tokens/s recorded");

        // Starting again with the same spec changes nothing.
        var again = await run.StartAsync(spec, folder);
        Assert.Equal(RunState.Completed, again.State);
        Assert.Empty(again.Problems);
    }

    [Fact]
    public async Task DeactivatedFusionWorkerResumesFromItsCheckpoint()
    {
        var (folder, spec) = fixture.NewRun("resume", epochs: 16);
        var run = fixture.Client.GetGrain<IFusionRunGrain>("resume");
        Assert.Empty((await run.StartAsync(spec, folder)).Problems);

        // Wait for the llama3 fusion to be past its first checkpoint, then take its activation away, as a lost silo would.
        var key = "resume/llama3";
        var fusion = fixture.Client.GetGrain<IPairwiseFusionGrain>(key);
        var clock = Stopwatch.StartNew();
        WorkStatus before;
        while (true)
        {
            before = await fusion.GetStatusAsync();
            if (before.State == RunState.Running && before.Progress >= 0.1) break;
            Assert.False(before.IsFinal, $"fusion ended before it could be interrupted: {before.State} {before.Detail}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), "fusion did not start");
            await Task.Delay(50);
        }

        await fusion.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await Task.Delay(500);

        // A reminder tick or any worker's notice makes the run grain poll, which reactivates and restarts the worker.
        await run.OnWorkerFinishedAsync(key);
        var status = await WaitForAsync(run, Final, TimeSpan.FromSeconds(120));
        if (status.State != RunState.Completed)
        {
            foreach (var f in Directory.EnumerateFiles(Path.Combine(fixture.Root, "grain-state")).Where(f => f.Contains("resume", StringComparison.Ordinal) && f.Contains("llama3", StringComparison.Ordinal)))
                output.WriteLine(f + "\n" + File.ReadAllText(f));
            foreach (var f in Directory.EnumerateFiles(Path.Combine(folder, "out", "work", "targets", "llama3.checkpoints"), "*.json", SearchOption.AllDirectories))
                output.WriteLine(f + "\n" + File.ReadAllText(f));
        }
        Assert.True(status.State == RunState.Completed, $"run {status.State}: {status.FailureReason}");
        var after = await fusion.GetStatusAsync();
        output.WriteLine($"interrupted at {before.Detail}; then {after.Detail} after {after.Attempts} attempts");
        Assert.Equal(2, after.Attempts);
        Assert.Matches(@"resumed at step [1-9]\d*", after.Detail);
    }

    [Fact]
    public async Task MalformedDataLineFailsTheRunNamingTheLine()
    {
        var (folder, spec) = fixture.NewRun("bad-line", badLine: "{\"conversations\": [oops");
        var run = fixture.Client.GetGrain<IFusionRunGrain>("bad-line");
        Assert.Empty((await run.StartAsync(spec, folder)).Problems);

        var status = await WaitForAsync(run, Final, TimeSpan.FromSeconds(60));
        Assert.Equal(RunState.Failed, status.State);
        Assert.NotNull(status.FailureReason);
        Assert.Contains("Representations", status.FailureReason);
        Assert.Contains(Path.Combine(folder, "chats.jsonl") + ":5", status.FailureReason);
        Assert.Equal(RunStage.Representations, status.CurrentStage);
        var events = await run.GetEventsAsync(0);
        Assert.Contains(events, e => e.Kind == RunEventKind.Error && e.Message.Contains(":5", StringComparison.Ordinal));
        Assert.Equal(RunEventKind.RunFailed, events[^1].Kind);
        Assert.All(status.Workers, w => Assert.True(w.Status.IsFinal));
    }

    [Fact]
    public async Task CancelStopsTheWorkersAndMarksTheRunCancelled()
    {
        var (folder, spec) = fixture.NewRun("cancel", epochs: 50);
        var run = fixture.Client.GetGrain<IFusionRunGrain>("cancel");
        Assert.Empty((await run.StartAsync(spec, folder)).Problems);

        var cancelled = await run.CancelAsync();
        Assert.Equal(RunState.Cancelled, cancelled.State);
        Assert.All(cancelled.Workers, w => Assert.True(w.Status.IsFinal, $"{w.Key} {w.Stage} is {w.Status.State}"));
        Assert.Equal(RunEventKind.RunCancelled, (await run.GetEventsAsync(0))[^1].Kind);

        // Workers stopped: nothing moves the run out of Cancelled, and no fusion target appears.
        await Task.Delay(1500);
        var later = await run.GetStatusAsync();
        Assert.Equal(RunState.Cancelled, later.State);
        Assert.False(Directory.Exists(Path.Combine(folder, "out", "work", "targets")));
        Assert.Equal(RunState.Cancelled, (await run.CancelAsync()).State);
    }

    [Fact]
    public async Task InvalidSpecIsRejectedWithEveryProblemAndNothingStarts()
    {
        var (folder, spec) = fixture.NewRun("rejected");
        var broken = spec.Replace("template: mistral", "template: nope", StringComparison.Ordinal)
            .Replace("lr: 3.0e-3", "lr: -1", StringComparison.Ordinal)
            .Replace("../models/source-qwen3", "../models/missing", StringComparison.Ordinal);
        var run = fixture.Client.GetGrain<IFusionRunGrain>("rejected");
        var status = await run.StartAsync(broken, folder);
        Assert.Equal(RunState.Pending, status.State);
        Assert.False(status.Accepted);
        Assert.Equal(3, status.Problems.Count);
        Assert.Contains(status.Problems, p => p.StartsWith("pivot.template", StringComparison.Ordinal));
        Assert.Contains(status.Problems, p => p.StartsWith("training.lr", StringComparison.Ordinal));
        Assert.Contains(status.Problems, p => p.StartsWith("sources[1].path", StringComparison.Ordinal));
        Assert.Equal(RunState.Pending, (await run.GetStatusAsync()).State);
        Assert.Empty(await run.GetEventsAsync(0));
        Assert.False(Directory.Exists(Path.Combine(folder, "out")));

        // The run id stays free: a valid spec starts it afterwards. Cancel at once to keep the test short.
        Assert.Empty((await run.StartAsync(spec, folder)).Problems);
        Assert.Equal(RunState.Cancelled, (await run.CancelAsync()).State);
    }

    /// <summary>A pivot and two targets of one tiny shape under <paramref name="root"/>, and an SCE recipe over them with absolute paths.</summary>
    private static string MakeMergeInputs(string root)
    {
        var config = ModelConfig.Parse("""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 40, "hidden_size": 16,
             "intermediate_size": 24, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 2,
             "rms_norm_eps": 1e-5, "max_position_embeddings": 32, "hidden_act": "silu"}
            """);
        foreach (var (name, seed) in new[] { ("pivot", 1UL), ("a", 2UL), ("b", 3UL) })
        {
            TorchRuntime.ManualSeed(seed);
            using var model = new LlamaModel(DecoderConfig.From(config));
            PretrainedModel.Save(model, config, Path.Combine(root, name));
        }
        return $"""
            merge_method: sce
            base_model: {Path.Combine(root, "pivot")}
            models:
              - model: {Path.Combine(root, "a")}
              - model: {Path.Combine(root, "b")}
            parameters:
              select_topk: 0.5
            dtype: float32
            """;
    }

    private sealed class SyncProgress(Action<MergeProgress> report) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value) => report(value);
    }

    private async Task<WorkStatus> WaitForMergeAsync(IMergeStageGrain merge)
    {
        var clock = Stopwatch.StartNew();
        var status = await merge.GetStatusAsync();
        while (!status.IsFinal && clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(200);
            status = await merge.GetStatusAsync();
        }
        output.WriteLine($"{status.State}: {status.Detail} {status.Error}");
        return status;
    }

    private static Dictionary<string, byte[]> Files(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    [Fact]
    public async Task MergeStageContinuesAnInterruptedMergeWithoutRewritingFinishedShards()
    {
        var root = Path.Combine(fixture.Root, "resumed-merge");
        var recipe = MakeMergeInputs(root);
        const long shardBytes = 3_000;
        var fused = Path.Combine(root, "fused");
        using var cancel = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => CheckpointMerger.Run(MergeRecipe.Parse(recipe), root, fused, maxShardBytes: shardBytes,
            progress: new SyncProgress(p => { if (p.ShardsDone == 3) cancel.Cancel(); }), cancellation: cancel.Token));
        var staging = CheckpointMerger.StagingFolder(fused);
        var finished = Directory.GetFiles(staging, "*.safetensors").ToDictionary(f => Path.GetFileName(f)!, File.GetLastWriteTimeUtc);
        Assert.Equal(3, finished.Count);

        var merge = fixture.Client.GetGrain<IMergeStageGrain>("resumed-merge");
        await merge.StartAsync(new MergeWork { RunId = "resumed-merge", RecipeYaml = recipe, OutputFolder = fused, Ranges = 2, MaxShardBytes = shardBytes });
        var status = await WaitForMergeAsync(merge);
        Assert.True(status.State == RunState.Completed, $"merge {status.State}: {status.Error}");
        // The shards finished before the interruption are the very files published, not merged again.
        foreach (var (file, written) in finished) Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(fused, file)));

        var reference = Path.Combine(root, "reference");
        CheckpointMerger.Run(MergeRecipe.Parse(recipe), root, reference, maxShardBytes: shardBytes);
        var expected = Files(reference);
        var actual = Files(fused);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (file, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[file]), $"{file} differs");
    }

    [Theory]
    [InlineData("split-merge", 0)]
    [InlineData("split-merge-one-at-a-time", 1)]
    public async Task MergeSplitIntoShardRangesGivesTheBytesOfASingleProcessMerge(string runId, int parallelRanges)
    {
        var root = Path.Combine(fixture.Root, runId);
        var recipe = MakeMergeInputs(root);
        const long shardBytes = 3_000;
        var work = new MergeWork
        {
            RunId = runId, RecipeYaml = recipe, OutputFolder = Path.Combine(root, "fused"), Ranges = 3, MaxShardBytes = shardBytes,
            ParallelRanges = parallelRanges,
        };
        var merge = fixture.Client.GetGrain<IMergeStageGrain>(runId);
        await merge.StartAsync(work);
        var status = await WaitForMergeAsync(merge);
        Assert.True(status.State == RunState.Completed, $"merge {status.State}: {status.Error}");
        var finished = new List<DateTimeOffset>();
        for (var i = 0; i < 3; i++)
        {
            var range = await fixture.Client.GetGrain<IMergeRangeGrain>(MergeStageGrain.RangeKey(runId, i)).GetStatusAsync();
            output.WriteLine($"range {i}: {range.State} {range.Detail} {range.UpdatedAt:O}");
            Assert.Equal(RunState.Completed, range.State);
            finished.Add(range.UpdatedAt);
        }
        if (parallelRanges == 1)
        {
            // One at a time, in order: each range finished before the next was started.
            Assert.Equal(finished.Order(), finished);
        }

        var reference = Path.Combine(root, "reference");
        CheckpointMerger.Run(MergeRecipe.Parse(recipe), root, reference, maxShardBytes: shardBytes);
        var expected = Files(reference);
        var actual = Files(work.OutputFolder);
        Assert.True(expected.Count > 4, "the merge should span several shards");
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (file, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[file]), $"{file} differs");
        Assert.False(Directory.Exists(CheckpointMerger.StagingFolder(work.OutputFolder)));
    }

    [Fact]
    public void RangesCoverEveryShardOnceAndNeverExceedTheShards()
    {
        Assert.Equal([(0, 1), (1, 1), (2, 2)], MergeStageGrain.PlanRanges(4, 3));
        Assert.Equal([(0, 1), (1, 1)], MergeStageGrain.PlanRanges(2, 4));
        Assert.Equal([(0, 1)], MergeStageGrain.PlanRanges(1, 4));
        Assert.Equal([(0, 10)], MergeStageGrain.PlanRanges(10, 1));
    }
}
