using System.Globalization;
using System.Text.Json;
using FuseChat.Fusion.Representations;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Stage 2 over a corpus: aligns one source's representations onto the pivot's token positions.
/// Pass 1 runs DTW over every conversation and counts co-occurring (pivot, source) token pairs, one partial
/// count file per pivot shard (statistics.parts/), summed into statistics.bin; the vocabulary map is built
/// from the counts; pass 2 runs DTW again per conversation and maps the source's top-K onto each trained
/// pivot position, writing one aligned shard per pivot shard (same Arrow format as representations, ids in
/// the pivot's vocabulary, metric_ce the source's) with a completion record. A source whose vocabulary
/// equals the pivot's skips DTW: its top-K is used as is.
/// <para>
/// <see cref="Run"/> does everything in one process. The steps are also public so that a cluster can spread
/// the shards over workers: <see cref="Prepare(AlignmentJob)"/> once, <see cref="CountShard(AlignmentJob, int, CancellationToken)"/>
/// per shard (any order, in parallel), <see cref="ReduceStatistics(AlignmentJob)"/> once,
/// <see cref="AlignShard(AlignmentJob, int, CancellationToken)"/> per shard, <see cref="Finish(AlignmentJob)"/> once. Every step skips what is already on disk, so each can be rerun after an interruption.
/// </para>
/// </summary>
public static class AlignmentRunner
{
    /// <summary>File of the corpus co-occurrence counts inside the output folder.</summary>
    public const string StatisticsFileName = "statistics.bin";

    /// <summary>Folder of the per-shard partial counts inside the output folder.</summary>
    public const string PartialStatisticsFolder = "statistics.parts";

    /// <summary>Suffix of an aligned shard's completion record.</summary>
    public const string DoneSuffix = ".done.json";

    // Conversations aligned together in pass 1 (bounded memory, parallel inside a chunk).
    private const int ChunkSize = 256;

    /// <summary>Runs (or continues) the whole alignment in this process.</summary>
    public static AlignmentSummary Run(AlignmentJob job, IProgress<AlignmentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var context = AlignmentContext.Open(job);
        var layout = Prepare(context);
        var total = context.PivotManifest.Shards.Sum(s => (long)s.Written);
        DistributionAligner? distributions = null;
        if (!layout.Identity)
        {
            long counted = 0;
            if (!File.Exists(Path.Combine(job.Output, StatisticsFileName)))
            {
                foreach (var shard in layout.ShardIndexes)
                {
                    CountShard(context, shard, cancellationToken);
                    counted += context.PivotShard(shard).Written;
                    progress?.Report(new AlignmentProgress(1, counted, total));
                }
            }
            distributions = Distributions(context, ReduceStatistics(context, layout));
        }

        var computed = 0;
        long aligned = 0;
        foreach (var shard in layout.ShardIndexes)
        {
            if (AlignShard(context, distributions, shard, cancellationToken).Computed) computed++;
            aligned += context.PivotShard(shard).Written;
            progress?.Report(new AlignmentProgress(2, aligned, total));
        }
        return Finish(context) with { ShardsComputed = computed };
    }

    /// <summary>
    /// Checks the inputs (complete representations of the same data and template, tokenizers that match them),
    /// creates the output folder with an incomplete manifest (or checks that an earlier one has the same settings)
    /// and returns the units.
    /// </summary>
    /// <exception cref="InvalidOperationException">An input does not fit, or the output holds an alignment made with other settings.</exception>
    public static AlignmentLayout Prepare(AlignmentJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return Prepare(AlignmentContext.Open(job));
    }

    /// <summary>Pass 1 for one pivot shard: counts its aligned token pairs into statistics.parts/ (skipped when done).</summary>
    public static void CountShard(AlignmentJob job, int shard, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        CountShard(AlignmentContext.Open(job), shard, cancellationToken);
    }

    /// <summary>Sums the partial counts of every shard into statistics.bin (kept when it exists); fails naming a missing part.</summary>
    public static void ReduceStatistics(AlignmentJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var context = AlignmentContext.Open(job);
        ReduceStatistics(context, Layout(context));
    }

    /// <summary>Pass 2 for one pivot shard: writes the aligned shard and its completion record (skipped when done). Needs statistics.bin unless the vocabularies are identical.</summary>
    /// <returns>The shard's record, and whether this call computed it.</returns>
    public static (AlignedShardRecord Record, bool Computed) AlignShard(AlignmentJob job, int shard, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var context = AlignmentContext.Open(job);
        if (Done(job.Output, context.PivotShard(shard)) is { } done) return (done, false);
        var statistics = Path.Combine(job.Output, StatisticsFileName);
        if (!context.Identity && !File.Exists(statistics))
            throw new InvalidOperationException($"{statistics} is missing: count every shard and reduce the statistics before aligning shards");
        var distributions = context.Identity ? null : Distributions(context, CooccurrenceStatistics.Load(statistics));
        return AlignShard(context, distributions, shard, cancellationToken);
    }

    /// <summary>Writes the complete manifest from the completion records of every shard and returns the totals.</summary>
    /// <exception cref="InvalidOperationException">A shard is not aligned yet.</exception>
    public static AlignmentSummary Finish(AlignmentJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return Finish(AlignmentContext.Open(job));
    }

    // The one-process run passes the context it already opened: loading both tokenizers again costs seconds for large vocabularies.
    private static AlignmentSummary Finish(AlignmentContext context)
    {
        var job = context.Job;
        var manifestPath = Path.Combine(job.Output, RepresentationManifest.FileName);
        var pivotManifest = context.PivotManifest;
        var manifest = RepresentationManifest.Load(manifestPath);
        var records = pivotManifest.Shards.OrderBy(s => s.Index)
            .Select(s => Done(job.Output, s) ?? throw new InvalidOperationException($"{job.Output}: shard {s.Index} ({s.File}) is not aligned yet"))
            .ToList();
        manifest = manifest with { Shards = [.. records.Select(r => r.Shard)], Complete = true, Conversations = pivotManifest.Conversations };
        manifest.Save(manifestPath);
        return new AlignmentSummary(records.Sum(r => (long)r.Shard.Written), records.Sum(r => r.WithoutSource),
            context.Identity, records.Sum(r => r.Positions), records.Sum(r => r.OneHotPositions),
            records.Sum(r => r.EmptyPositions), 0);
    }

    private static AlignmentLayout Layout(AlignmentContext context) =>
        new([.. context.PivotManifest.Shards.Select(s => s.Index).Order()], context.Identity);

    private static AlignmentLayout Prepare(AlignmentContext context)
    {
        var job = context.Job;
        Directory.CreateDirectory(job.Output);
        var manifest = context.PivotManifest with
        {
            Model = $"aligned:{context.SourceManifest.Model}",
            TopK = context.TopK,
            Shards = [],
            Complete = false,
        };
        var manifestPath = Path.Combine(job.Output, RepresentationManifest.FileName);
        if (File.Exists(manifestPath))
        {
            var previous = RepresentationManifest.Load(manifestPath);
            if (manifest.Incompatibility(previous) is { } reason)
                throw new InvalidOperationException($"{job.Output} holds an alignment made with other settings ({reason}); use another folder or delete it");
        }
        else
        {
            manifest.Save(manifestPath);
        }
        return Layout(context);
    }

    private static DistributionAligner Distributions(AlignmentContext context, CooccurrenceStatistics statistics) =>
        new(context.PivotVocabulary, context.SourceVocabulary, VocabularyMap.Build(statistics, context.PivotVocabulary, context.SourceVocabulary));

    /// <summary>The partial counts of pivot shard <paramref name="shard"/> inside the output folder <paramref name="output"/>.</summary>
    /// <param name="output">The alignment's output folder.</param>
    /// <param name="shard">The pivot shard.</param>
    public static string PartPath(string output, int shard) =>
        Path.Combine(output, PartialStatisticsFolder, string.Create(CultureInfo.InvariantCulture, $"part-{shard:D5}.bin"));

    /// <summary>The DTW paths the counting pass found for a shard's conversations, which the aligning pass reuses.</summary>
    public static string PathsPath(string output, int shard) =>
        Path.Combine(output, PartialStatisticsFolder, string.Create(CultureInfo.InvariantCulture, $"part-{shard:D5}.paths"));

    private static void CountShard(AlignmentContext context, int shard, CancellationToken cancellationToken)
    {
        if (context.Identity) return;
        var path = PartPath(context.Job.Output, shard);
        if (File.Exists(path)) return;
        var info = context.PivotShard(shard);
        var statistics = new CooccurrenceStatistics();
        var paths = new List<(long, TokenAlignment)>();
        foreach (var chunk in RepresentationReader.ReadShard(Path.Combine(context.Job.PivotRepresentations, info.File)).Chunk(ChunkSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pairs = new List<(int[] PivotIds, int[] SourceIds)>(chunk.Length);
            var conversations = new List<long>(chunk.Length);
            foreach (var pivot in chunk)
            {
                if (context.Sources.Find(pivot.ConversationIndex) is { } source)
                {
                    pairs.Add((pivot.InputIds, source.InputIds));
                    conversations.Add(pivot.ConversationIndex);
                }
            }
            var alignments = context.Aligner.Align(pairs, statistics, cancellationToken);
            for (var c = 0; c < alignments.Length; c++) paths.Add((conversations[c], alignments[c]));
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // The paths first: the part file marks the shard counted, and a shard counted without its paths (an older
        // run, a lost file) only costs the aligning pass the DTW.
        AlignmentPathFile.Write(PathsPath(context.Job.Output, shard), paths);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        statistics.Save(temporary);
        File.Move(temporary, path, overwrite: true);
    }

    private static CooccurrenceStatistics ReduceStatistics(AlignmentContext context, AlignmentLayout layout)
    {
        var path = Path.Combine(context.Job.Output, StatisticsFileName);
        if (File.Exists(path)) return CooccurrenceStatistics.Load(path);
        var total = new CooccurrenceStatistics();
        foreach (var shard in layout.ShardIndexes)
        {
            var part = PartPath(context.Job.Output, shard);
            if (!File.Exists(part)) throw new InvalidOperationException($"{part} is missing: shard {shard} has not been counted");
            total.Merge(CooccurrenceStatistics.Load(part));
        }
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        total.Save(temporary);
        File.Move(temporary, path, overwrite: true);
        return total;
    }

    private static AlignedShardRecord? Done(string output, RepresentationShardInfo pivotShard)
    {
        var recordPath = Path.Combine(output, pivotShard.File + DoneSuffix);
        if (!File.Exists(recordPath)) return null;
        var record = JsonSerializer.Deserialize<AlignedShardRecord>(File.ReadAllText(recordPath));
        var path = Path.Combine(output, pivotShard.File);
        // A record whose shard was changed or removed since is not trusted: the shard is aligned again.
        return record is not null && File.Exists(path) && new FileInfo(path).Length == record.Shard.Bytes && RepresentationShardFile.Sha256(path) == record.Shard.Sha256
            ? record
            : null;
    }

    private static (AlignedShardRecord Record, bool Computed) AlignShard(AlignmentContext context, DistributionAligner? distributions, int shard,
        CancellationToken cancellationToken)
    {
        var job = context.Job;
        var pivotShard = context.PivotShard(shard);
        if (Done(job.Output, pivotShard) is { } done) return (done, false);
        cancellationToken.ThrowIfCancellationRequested();
        var k = context.TopK;
        var metadata = new Dictionary<string, string>
        {
            ["fusechat.model"] = $"aligned:{context.SourceManifest.Model}",
            ["fusechat.template"] = context.PivotManifest.Template,
            ["fusechat.tokenizer"] = context.PivotManifest.Tokenizer,
            ["fusechat.aligned"] = context.Identity ? "identity" : "dtw",
        };
        var pivots = RepresentationReader.ReadShard(Path.Combine(job.PivotRepresentations, pivotShard.File)).ToList();
        var paths = context.Identity ? null : AlignmentPathFile.TryRead(PathsPath(job.Output, shard));
        var aligned = new ConversationRepresentation[pivots.Count];
        var counters = new long[4];
        Parallel.For(0, pivots.Count, new ParallelOptions { MaxDegreeOfParallelism = job.MaxDegreeOfParallelism, CancellationToken = cancellationToken },
            i =>
            {
                var (record, stats) = AlignConversation(pivots[i], context.Sources.Find(pivots[i].ConversationIndex), k, context.Identity, context.Aligner, distributions,
                    paths?.GetValueOrDefault(pivots[i].ConversationIndex));
                aligned[i] = record;
                Interlocked.Add(ref counters[0], stats.WithoutSource);
                Interlocked.Add(ref counters[1], record.Positions.Length);
                Interlocked.Add(ref counters[2], stats.OneHot);
                Interlocked.Add(ref counters[3], stats.Empty);
            });
        var path = Path.Combine(job.Output, pivotShard.File);
        RepresentationShardFile.Write(path, aligned, k, context.PivotManifest.Compression, metadata);
        var result = new AlignedShardRecord
        {
            Shard = pivotShard with
            {
                Tokens = aligned.Sum(r => (long)r.InputIds.Length),
                TrainedPositions = aligned.Sum(r => (long)r.Positions.Length),
                Bytes = new FileInfo(path).Length,
                Sha256 = RepresentationShardFile.Sha256(path),
            },
            WithoutSource = counters[0],
            Positions = counters[1],
            OneHotPositions = counters[2],
            EmptyPositions = counters[3],
        };
        var recordPath = path + DoneSuffix;
        var temporary = $"{recordPath}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(result));
        File.Move(temporary, recordPath, overwrite: true);
        return (result, true);
    }

    private readonly record struct ConversationStats(int WithoutSource, int OneHot, int Empty);

    /// <summary>The source's top-K for each trained pivot position, in the pivot's vocabulary.</summary>
    /// <remarks>The path comes from the counting pass when it matches the conversation, or from the DTW again.</remarks>
    private static (ConversationRepresentation Record, ConversationStats Stats) AlignConversation(ConversationRepresentation pivot,
        ConversationRepresentation? source, int k, bool identity, CorpusAligner aligner, DistributionAligner? distributions, TokenAlignment? counted)
    {
        var count = pivot.Positions.Length;
        var ids = new int[count * k];
        var logits = new Half[count * k];
        Array.Fill(logits, Half.NegativeInfinity);
        if (source is null)
            return (pivot with { MetricCe = float.NaN, TopK = k, TopKIds = ids, TopKLogits = logits }, new ConversationStats(1, 0, count));

        int oneHot = 0, empty = 0;
        if (identity)
        {
            // Same tokenizer, same text: the same positions exist on both sides.
            var byPosition = new Dictionary<int, int>(source.Positions.Length);
            for (var j = 0; j < source.Positions.Length; j++) byPosition[source.Positions[j]] = j;
            for (var i = 0; i < count; i++)
            {
                if (!byPosition.TryGetValue(pivot.Positions[i], out var j))
                {
                    empty++;
                    continue;
                }
                source.IdsAt(j).CopyTo(ids.AsSpan(i * k, k));
                source.LogitsAt(j).CopyTo(logits.AsSpan(i * k, k));
            }
        }
        else
        {
            // Full-length source arrays: positions the source did not store get no entry (-1 / -inf).
            var sourceIds = new int[source.InputIds.Length * k];
            var sourceLogits = new float[sourceIds.Length];
            Array.Fill(sourceIds, -1);
            Array.Fill(sourceLogits, float.NegativeInfinity);
            for (var j = 0; j < source.Positions.Length; j++)
            {
                var p = source.Positions[j];
                source.IdsAt(j).CopyTo(sourceIds.AsSpan(p * k, k));
                var from = source.LogitsAt(j);
                for (var r = 0; r < k; r++) sourceLogits[p * k + r] = (float)from[r];
            }
            var alignment = counted is not null && counted.PivotLength == pivot.InputIds.Length && counted.SourceLength == source.InputIds.Length
                ? counted
                : aligner.AlignOne(pivot.InputIds, source.InputIds);
            var result = distributions!.Align(pivot.InputIds, source.InputIds, alignment, sourceIds, sourceLogits, k);
            for (var i = 0; i < count; i++)
            {
                var p = pivot.Positions[i];
                if (result.Kinds[p] == DistributionAlignmentKind.OneHot) oneHot++;
                var n = result.Counts[p];
                if (n == 0) empty++;
                result.IdsAt(p).CopyTo(ids.AsSpan(i * k, n));
                var l = result.LogitsAt(p);
                for (var r = 0; r < n; r++) logits[i * k + r] = (Half)l[r];
            }
        }
        return (pivot with { MetricCe = source.MetricCe, TopK = k, TopKIds = ids, TopKLogits = logits }, new ConversationStats(0, oneHot, empty));
    }
}
