using FuseChat.Fusion.Alignment;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Representations;
using FuseChat.Fusion.Tests.Checkpoints;
using FuseChat.Fusion.Tests.Tokenization;
using Xunit.Abstractions;

namespace FuseChat.Fusion.Tests.Alignment;

/// <summary>
/// The alignment split into per-shard steps (as the cluster spreads it over workers, in any order) writes
/// exactly what the one-process run writes, and every step skips what is already done.
/// </summary>
[Collection(FuseChat.Fusion.Tests.Training.TrainingCollection.Name)]
public class AlignmentRunnerStepsTests(ITestOutputHelper output)
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

    /// <summary>The aligned shards, written by the same Arrow writer as representations, read by pyarrow.</summary>
    [Fact]
    public void AlignedShardsAreReadableByPyArrow()
    {
        using var python = Support.ReferencePython.Open();
        using var root = new TempFolder();
        var (job, _) = Setup(root, "aligned");
        AlignmentRunner.Run(job);
        var shards = RepresentationManifest.Load(Path.Combine(job.Output, RepresentationManifest.FileName)).Shards;
        Assert.Equal(4, shards.Count);
        foreach (var shard in shards)
        {
            var path = Path.Combine(job.Output, shard.File);
            Support.ShardRows.AssertSame(path, python.Run("read-arrow.py", python.CopyIn(path)),
                Support.ShardRows.PyArrowIds, Support.ShardRows.PyArrowLogits, output);
        }
    }

    [Fact]
    public void TheAligningPassReusesTheCountedPathsAndWritesTheSameWithoutThem()
    {
        using var root = new TempFolder();
        var (job, _) = Setup(root, "reused");
        AlignmentRunner.Run(job);
        var layout = AlignmentRunner.Prepare(job);
        var shards = RepresentationManifest.Load(Path.Combine(job.Output, RepresentationManifest.FileName)).Shards;
        var expected = shards.ToDictionary(s => s.File, s => File.ReadAllBytes(Path.Combine(job.Output, s.File)));

        // The counting pass left one paths file per shard, one path per conversation that has a source.
        foreach (var shard in layout.ShardIndexes)
        {
            var paths = AlignmentPathFile.TryRead(AlignmentRunner.PathsPath(job.Output, shard));
            Assert.NotNull(paths);
            Assert.NotEmpty(paths);
        }

        // Without the paths (missing, or not a paths file) the aligning pass runs the DTW again: same bytes.
        File.Delete(AlignmentRunner.PathsPath(job.Output, 0));
        File.WriteAllText(AlignmentRunner.PathsPath(job.Output, 1), "not a paths file");
        var truncated = AlignmentRunner.PathsPath(job.Output, 2);
        File.WriteAllBytes(truncated, File.ReadAllBytes(truncated)[..^3]);
        Assert.Null(AlignmentPathFile.TryRead(truncated));
        foreach (var shard in shards)
        {
            File.Delete(Path.Combine(job.Output, shard.File));
            File.Delete(Path.Combine(job.Output, shard.File + AlignmentRunner.DoneSuffix));
        }
        foreach (var shard in layout.ShardIndexes) Assert.True(AlignmentRunner.AlignShard(job, shard).Computed);
        foreach (var shard in shards) Assert.Equal(expected[shard.File], File.ReadAllBytes(Path.Combine(job.Output, shard.File)));

        // And the paths are what the aligning pass uses: other (valid) paths in the file give another shard.
        var last = layout.ShardIndexes[^1];
        var counted = AlignmentPathFile.TryRead(AlignmentRunner.PathsPath(job.Output, last))!;
        AlignmentPathFile.Write(AlignmentRunner.PathsPath(job.Output, last), counted.Select(e => (e.Key, Corner(e.Value.PivotLength, e.Value.SourceLength))));
        var file = shards.Single(s => s.Index == last).File;
        File.Delete(Path.Combine(job.Output, file));
        File.Delete(Path.Combine(job.Output, file + AlignmentRunner.DoneSuffix));
        Assert.True(AlignmentRunner.AlignShard(job, last).Computed);
        Assert.NotEqual(expected[file], File.ReadAllBytes(Path.Combine(job.Output, file)));
    }

    // The path along the first row, then down the last column.
    private static TokenAlignment Corner(int n, int m)
    {
        var pivots = Enumerable.Repeat(0, m).Concat(Enumerable.Range(1, n - 1)).ToArray();
        var sources = Enumerable.Range(0, m).Concat(Enumerable.Repeat(m - 1, n - 1)).ToArray();
        return new TokenAlignment(n, m, pivots, sources);
    }

    [Fact]
    public void PathsRoundTripThroughTheFile()
    {
        using var root = new TempFolder();
        var rng = new Random(43);
        var entries = new List<(long, TokenAlignment)>();
        for (var c = 0; c < 30; c++)
        {
            var (p, s) = DynamicTimeWarpingTests.TwoTokenizations(rng, rng.Next(1, 50));
            entries.Add((1000L * c, DynamicTimeWarping.Align(p, c % 5 == 0 ? [p[0]] : s)));
        }
        var path = Path.Combine(root.Path, "part.paths");
        AlignmentPathFile.Write(path, entries);
        var read = AlignmentPathFile.TryRead(path);
        Assert.NotNull(read);
        Assert.Equal(entries.Count, read.Count);
        foreach (var (conversation, alignment) in entries)
        {
            var back = read[conversation];
            Assert.Equal((alignment.PivotLength, alignment.SourceLength, alignment.Cost), (back.PivotLength, back.SourceLength, back.Cost));
            Assert.Equal(alignment.PathPivots, back.PathPivots);
            Assert.Equal(alignment.PathSources, back.PathSources);
        }
        Assert.Null(AlignmentPathFile.TryRead(Path.Combine(root.Path, "absent.paths")));
    }

    private sealed class InlineAlignmentProgress(Action<AlignmentProgress> report) : IProgress<AlignmentProgress>
    {
        public void Report(AlignmentProgress value) => report(value);
    }
}
