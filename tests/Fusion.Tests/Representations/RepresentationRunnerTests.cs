using System.Text.Json;
using FuseChat.Fusion.Data;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Representations;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tests.Tokenization;
using Xunit.Abstractions;

namespace FuseChat.Fusion.Tests.Representations;

/// <summary>
/// Shards, manifest, resume, cancellation, the reader, and reading shards with two other Arrow implementations:
/// JavaScript (ZSTD shards through the pure-JS fzstd decoder registered in read-arrow.js) and pyarrow (C++).
/// </summary>
public sealed class RepresentationRunnerTests(RepresentationFixture fixture, ITestOutputHelper output) : IClassFixture<RepresentationFixture>
{
    private RepresentationJob Job(string folder, RepresentationCompression compression = RepresentationCompression.Zstd, int shardSize = 3,
        int maxBatchTokens = 4096, string? data = null) => new()
    {
        ModelFolder = fixture.ModelFolder,
        DataPath = data ?? fixture.DataPath,
        Template = "openchat_3.5",
        OutputFolder = folder,
        Options = new RepresentationOptions { TopK = 10, ShardSize = shardSize, MaxBatchTokens = maxBatchTokens, Compression = compression },
    };

    private static Dictionary<string, byte[]> Files(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    [Fact]
    public void Run_WritesShardsAndManifest_AndReaderReturnsTheComputedRecords()
    {
        foreach (var compression in new[] { RepresentationCompression.Zstd, RepresentationCompression.None })
        {
            var folder = fixture.NewFolder("run");
            var summary = RepresentationRunner.Run(Job(folder, compression));
            Assert.Equal(7, summary.Conversations);
            Assert.Equal(7, summary.Written);
            Assert.Equal(0, summary.Dropped);
            Assert.Equal(3, summary.ShardsComputed);
            Assert.Equal(["manifest.json", "shard-00000.arrow", "shard-00001.arrow", "shard-00002.arrow"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
            var reader = RepresentationReader.Open(folder);
            Assert.True(reader.Manifest.Complete);
            Assert.Equal([0L, 3L, 6L], reader.Manifest.Shards.Select(s => s.FirstConversation));

            var (model, _) = PretrainedModel.Load(fixture.ModelFolder);
            using var _model = model;
            var template = ChatTemplates.Get("openchat_3.5");
            var inputs = ChatDataset.Read(fixture.DataPath).Select((r, i) =>
            {
                var e = ChatEncoder.Encode(r.Conversation, template, fixture.Tokenizer);
                return new RepresentationInput(i, r.Id, e.Ids, e.Trained);
            }).ToList();
            var expected = new List<ConversationRepresentation>();
            foreach (var chunk in inputs.Chunk(3)) expected.AddRange(new RepresentationComputer(model, 10, 4096).Compute(chunk).Records);
            var read = reader.ReadAll().ToList();
            Assert.Equal(expected.Count, read.Count);
            for (var i = 0; i < read.Count; i++) Assert.True(expected[i].ContentEquals(read[i]), $"record {i} differs after the round trip");
            Assert.Equal(summary.Tokens, read.Sum(r => (long)r.InputIds.Length));
            output.WriteLine($"{compression}: {summary.Bytes} bytes, {summary.Tokens} tokens, {summary.BytesPerToken:F1} B/token");
        }
    }

    [Fact]
    public void Rerun_AfterLosingTheLastShard_RecomputesOnlyIt_AndGivesIdenticalFiles()
    {
        var folder = fixture.NewFolder("resume");
        RepresentationRunner.Run(Job(folder));
        var before = Files(folder);
        File.Delete(Path.Combine(folder, "shard-00002.arrow"));
        var manifestPath = Path.Combine(folder, RepresentationManifest.FileName);
        var manifest = RepresentationManifest.Load(manifestPath);
        (manifest with { Shards = manifest.Shards.Take(2).ToList(), Complete = false, Conversations = 0 }).Save(manifestPath);

        var summary = RepresentationRunner.Run(Job(folder));
        Assert.Equal(2, summary.ShardsSkipped);
        Assert.Equal(1, summary.ShardsComputed);
        var after = Files(folder);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} differs after the rerun");

        // A rerun with nothing left to do computes nothing; a corrupted shard is recomputed.
        Assert.Equal(0, RepresentationRunner.Run(Job(folder)).ShardsComputed);
        File.WriteAllBytes(Path.Combine(folder, "shard-00001.arrow"), [1, 2, 3]);
        var repaired = RepresentationRunner.Run(Job(folder));
        Assert.Equal(1, repaired.ShardsComputed);
        Assert.True(before["shard-00001.arrow"].AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(folder, "shard-00001.arrow"))));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Cancelling_LeavesOnlyCompleteShards_AndARerunFinishesIdentically(bool midShard)
    {
        var reference = fixture.NewFolder("reference");
        RepresentationRunner.Run(Job(reference, maxBatchTokens: 1));
        var folder = fixture.NewFolder("cancel");
        using var cancel = new CancellationTokenSource();
        var progress = new InlineProgress(p =>
        {
            // After shard 0: either at once, or once shard 1 has computed a conversation (one per batch here).
            if (p.ShardsDone >= 1 && (!midShard || p.ConversationsDone > 3)) cancel.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => RepresentationRunner.Run(Job(folder, maxBatchTokens: 1), progress, cancel.Token));
        Assert.Equal(["manifest.json", "shard-00000.arrow"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        var partial = RepresentationReader.Open(folder);
        Assert.False(partial.Manifest.Complete);
        Assert.Single(partial.Manifest.Shards);

        var summary = RepresentationRunner.Run(Job(folder, maxBatchTokens: 1));
        Assert.Equal(1, summary.ShardsSkipped);
        var expected = Files(reference);
        var actual = Files(folder);
        foreach (var name in expected.Keys.Where(n => n.EndsWith(".arrow", StringComparison.Ordinal)))
            Assert.True(expected[name].AsSpan().SequenceEqual(actual[name]), $"{name} differs from an uninterrupted run");
    }

    [Fact]
    public void Rerun_WithOtherSettings_IsRefused()
    {
        var folder = fixture.NewFolder("settings");
        RepresentationRunner.Run(Job(folder));
        var changed = Job(folder) with { Options = new RepresentationOptions { TopK = 5, ShardSize = 3 } };
        var error = Assert.Throws<InvalidOperationException>(() => RepresentationRunner.Run(changed));
        Assert.Contains("top-k", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Runner_CountsDroppedAndTruncatedConversations()
    {
        var folder = fixture.NewFolder("short");
        var summary = RepresentationRunner.Run(Job(folder) with { ModelFolder = fixture.ShortModelFolder });
        Assert.Equal(7, summary.Conversations);
        Assert.True(summary.Dropped >= 1);
        Assert.True(summary.Truncated >= summary.Dropped);
        Assert.Equal(summary.Conversations - summary.Dropped, summary.Written);
        var reader = RepresentationReader.Open(folder);
        Assert.Equal(summary.Dropped, reader.Manifest.Dropped);
        Assert.Equal(summary.Truncated, reader.Manifest.Truncated);
        Assert.DoesNotContain(reader.ReadAll(), r => r.Id == "long-prompt");
    }

    [Theory]
    [InlineData(RepresentationCompression.None)]
    [InlineData(RepresentationCompression.Zstd)]
    public void Shard_IsReadableByArrowJavaScript(RepresentationCompression compression)
    {
        var arrowJs = Path.Combine(TokenizerFixtures.FixturesDir, "npm", "node_modules", "apache-arrow");
        if (!Directory.Exists(arrowJs)) Assert.Fail("apache-arrow (npm) is missing. Run tests/fixtures/fetch-npm.sh first.");
        var folder = fixture.NewFolder("js");
        RepresentationRunner.Run(Job(folder, compression));
        var shard = Path.Combine(folder, "shard-00001.arrow");
        var lines = Support.NodeScript.Run("read-arrow.js", [shard], []);
        Support.ShardRows.AssertSame(shard, lines, idsType: "FixedSizeList[10]<Int32>", logitsType: "FixedSizeList[10]<Float16>", output);
    }

    /// <summary>
    /// The requirement in its own words: shards that pyarrow reads. pyarrow is Arrow's C++ implementation,
    /// independent of both our writer and Arrow JS; it decompresses ZSTD buffers itself.
    /// </summary>
    [Theory]
    [InlineData(RepresentationCompression.None)]
    [InlineData(RepresentationCompression.Zstd)]
    public void Shard_IsReadableByPyArrow(RepresentationCompression compression)
    {
        using var python = Support.ReferencePython.Open();
        var folder = fixture.NewFolder("pyarrow");
        RepresentationRunner.Run(Job(folder, compression));
        var shard = Path.Combine(folder, "shard-00001.arrow");
        var lines = python.Run("read-arrow.py", python.CopyIn(shard));
        Support.ShardRows.AssertSame(shard, lines, Support.ShardRows.PyArrowIds, Support.ShardRows.PyArrowLogits, output);
    }

    /// <summary>
    /// Stage 1 against the plain reading of METHOD.md in transformers (represent_reference.py): each conversation
    /// alone, unbatched and unpacked, the positions t whose next token is trained, torch.topk of z_t and metric_ce.
    /// Our batched run must store the same positions and ids, the logits rounded to fp16, and the same metric_ce.
    /// </summary>
    [Fact]
    public void Shard_MatchesTransformersPerConversation()
    {
        using var python = Support.ReferencePython.Open();
        var folder = fixture.NewFolder("transformers");
        var summary = RepresentationRunner.Run(Job(folder, shardSize: 10, maxBatchTokens: 96));
        var ours = RepresentationReader.Open(folder).ReadAll().ToList();
        Assert.Equal(summary.Written, ours.Count);
        var model = python.CopyFolderIn(fixture.ModelFolder, "model");
        var lines = python.Run(Path.Combine("parity", "represent_reference.py"), model,
            python.CopyIn(Path.Combine(folder, "shard-00000.arrow")), "10").Where(l => l.StartsWith("{\"id\"", StringComparison.Ordinal)).ToArray();
        Assert.Equal(ours.Count, lines.Length);
        double worstLogit = 0, worstCe = 0;
        for (var c = 0; c < ours.Count; c++)
        {
            using var reference = JsonDocument.Parse(lines[c]);
            var r = reference.RootElement;
            var mine = ours[c];
            Assert.Equal(mine.Id, r.GetProperty("id").GetString());
            Assert.Equal(mine.Positions, r.GetProperty("positions").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal(mine.TopKIds, r.GetProperty("topk_ids").EnumerateArray().SelectMany(p => p.EnumerateArray()).Select(e => e.GetInt32()));
            var logits = r.GetProperty("topk_logits").EnumerateArray().SelectMany(p => p.EnumerateArray()).Select(e => e.GetDouble()).ToArray();
            for (var i = 0; i < logits.Length; i++)
            {
                var d = Math.Abs((double)(float)mine.TopKLogits[i] - logits[i]);
                worstLogit = Math.Max(worstLogit, d / Math.Max(1, Math.Abs(logits[i])));
            }
            var ce = r.GetProperty("metric_ce").GetDouble();
            worstCe = Math.Max(worstCe, Math.Abs(mine.MetricCe - ce) / ce);
        }
        output.WriteLine($"{ours.Count} conversations: largest relative logit difference {worstLogit:E2} (fp16 storage), metric_ce {worstCe:E2}");
        Assert.True(worstLogit <= 1e-3, $"stored logits differ from transformers' by {worstLogit} relative (fp16 rounds to 4.9e-4)");
        Assert.True(worstCe <= 1e-5, $"metric_ce differs from transformers' by {worstCe} relative");
    }

    private sealed class InlineProgress(Action<RepresentationProgress> report) : IProgress<RepresentationProgress>
    {
        public void Report(RepresentationProgress value) => report(value);
    }
}
