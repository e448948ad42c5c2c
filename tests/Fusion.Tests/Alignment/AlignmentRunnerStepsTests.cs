using FuseChat.Fusion.Alignment;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Representations;
using FuseChat.Fusion.Tests.Checkpoints;
using FuseChat.Fusion.Tests.Tokenization;

namespace FuseChat.Fusion.Tests.Alignment;

/// <summary>
/// The alignment split into per-shard steps (as the cluster spreads it over workers, in any order) writes
/// exactly what the one-process run writes, and every step skips what is already done.
/// </summary>
[Collection(FuseChat.Fusion.Tests.Training.TrainingCollection.Name)]
public class AlignmentRunnerStepsTests
{
    private static readonly string[] Chats =
    [
        "What is the capital of France?|Paris is the capital of France.",
        "How many legs does a spider have?|A spider has eight legs.",
        "What do bees make?|Bees make honey.",
        "Which planet is called the red planet?|Mars is called the red planet.",
        "What is two plus three?|Two plus three is five.",
        "What is frozen water called?|Frozen water is called ice.",
        "Who wrote Hamlet?|Shakespeare wrote Hamlet.",
    ];

    private static (AlignmentJob Job, string Root) Setup(TempFolder root, string output)
    {
        var data = Path.Combine(root.Path, "chats.jsonl");
        if (!File.Exists(data))
        {
            File.WriteAllLines(data, Chats.Select(c => c.Split('|')).Select(p =>
                $$"""{"conversations": [{"from": "human", "value": "{{p[0]}}"}, {"from": "gpt", "value": "{{p[1]}}"}]}"""));
            foreach (var (name, tokenizer, seed) in new[] { ("pivot", "llama2", 1UL), ("source", "qwen3", 2UL) })
            {
                var model = TinyModelFolder.Create(Path.Combine(root.Path, name), TokenizerFixtures.ModelDir(tokenizer), seed);
                RepresentationRunner.Run(new RepresentationJob
                {
                    ModelFolder = model, DataPath = data, Template = "mistral", OutputFolder = model + ".reps",
                    Options = new RepresentationOptions { TopK = 10, ShardSize = 2 },
                });
            }
        }

        string At(string name) => Path.Combine(root.Path, name);
        return (new AlignmentJob
        {
            PivotRepresentations = At("pivot.reps"), SourceRepresentations = At("source.reps"),
            PivotTokenizer = At("pivot"), SourceTokenizer = At("source"), Output = At(output),
        }, root.Path);
    }

    [Fact]
    public void ShardStepsInAnyOrderWriteWhatTheOneProcessRunWrites()
    {
        using var root = new TempFolder();
        var (whole, _) = Setup(root, "whole");
        var expected = AlignmentRunner.Run(whole);
        Assert.Equal(4, expected.ShardsComputed);

        var steps = whole with { Output = Path.Combine(root.Path, "steps") };
        var layout = AlignmentRunner.Prepare(steps);
        Assert.False(layout.Identity);
        Assert.Equal([0, 1, 2, 3], layout.ShardIndexes);
        foreach (var shard in layout.ShardIndexes.Reverse()) AlignmentRunner.CountShard(steps, shard);
        AlignmentRunner.ReduceStatistics(steps);
        foreach (var shard in new[] { 2, 0, 3, 1 }) Assert.True(AlignmentRunner.AlignShard(steps, shard).Computed);
        var summary = AlignmentRunner.Finish(steps);

        Assert.Equal(expected with { ShardsComputed = 0 }, summary);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole.Output, AlignmentRunner.StatisticsFileName)),
            File.ReadAllBytes(Path.Combine(steps.Output, AlignmentRunner.StatisticsFileName)));
        var manifest = RepresentationManifest.Load(Path.Combine(steps.Output, RepresentationManifest.FileName));
        Assert.True(manifest.Complete);
        Assert.Equal(RepresentationManifest.Load(Path.Combine(whole.Output, RepresentationManifest.FileName)).Shards, manifest.Shards);
        foreach (var shard in manifest.Shards)
            Assert.Equal(File.ReadAllBytes(Path.Combine(whole.Output, shard.File)), File.ReadAllBytes(Path.Combine(steps.Output, shard.File)));

        // Done steps are skipped; a rerun of the whole computes nothing.
        Assert.False(AlignmentRunner.AlignShard(steps, 1).Computed);
        Assert.Equal(0, AlignmentRunner.Run(steps).ShardsComputed);
    }

    [Fact]
    public void StepsOutOfOrderFailNamingWhatIsMissing()
    {
        using var root = new TempFolder();
        var (job, _) = Setup(root, "out");
        AlignmentRunner.Prepare(job);
        AlignmentRunner.CountShard(job, 0);
        var reduce = Assert.Throws<InvalidOperationException>(() => AlignmentRunner.ReduceStatistics(job));
        Assert.Contains("shard 1 has not been counted", reduce.Message, StringComparison.Ordinal);
        var align = Assert.Throws<InvalidOperationException>(() => AlignmentRunner.AlignShard(job, 0));
        Assert.Contains("statistics.bin is missing", align.Message, StringComparison.Ordinal);
        var finish = Assert.Throws<InvalidOperationException>(() => AlignmentRunner.Finish(job));
        Assert.Contains("shard 0", finish.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnInterruptedRunContinuesWithTheShardsItHadNotDone()
    {
        using var root = new TempFolder();
        var (job, _) = Setup(root, "out");
        var progressSeen = 0;
        using var cancel = new CancellationTokenSource();
        var progress = new InlineAlignmentProgress(p =>
        {
            // Stop during pass 2, after its first shard.
            if (p.Pass == 2 && ++progressSeen == 1) cancel.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => AlignmentRunner.Run(job, progress, cancel.Token));
        Assert.Equal(3, AlignmentRunner.Run(job).ShardsComputed);
    }

    private sealed class InlineAlignmentProgress(Action<AlignmentProgress> report) : IProgress<AlignmentProgress>
    {
        public void Report(AlignmentProgress value) => report(value);
    }
}
