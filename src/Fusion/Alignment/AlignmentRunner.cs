using FuseChat.Fusion.Representations;
using FuseChat.Fusion.Tokenization;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Stage 2 over a corpus: aligns one source's representations onto the pivot's token positions.
/// Pass 1 runs DTW over every conversation and counts co-occurring (pivot, source) token pairs
/// (saved as statistics.bin, so a rerun skips it); the vocabulary map is built from the counts;
/// pass 2 runs DTW again per conversation and maps the source's top-K onto each trained pivot
/// position, writing one aligned shard per pivot shard (same Arrow format as representations, ids
/// in the pivot's vocabulary, metric_ce the source's). Shards are resumable like representations.
/// A source whose vocabulary equals the pivot's skips DTW: its top-K is used as is.
/// </summary>
public static class AlignmentRunner
{
    /// <summary>File of the corpus co-occurrence counts inside the output folder.</summary>
    public const string StatisticsFileName = "statistics.bin";

    // Conversations aligned together in pass 1 (bounded memory, parallel inside a chunk).
    private const int ChunkSize = 256;

    /// <summary>Runs (or continues) the alignment.</summary>
    public static AlignmentSummary Run(AlignmentJob job, IProgress<AlignmentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var pivotReader = RepresentationReader.Open(job.PivotRepresentations);
        var sourceReader = RepresentationReader.Open(job.SourceRepresentations);
        var pivotManifest = pivotReader.Manifest;
        var sourceManifest = sourceReader.Manifest;
        if (!pivotManifest.Complete) throw new InvalidOperationException($"{job.PivotRepresentations}: the pivot's representations are not complete");
        if (!sourceManifest.Complete) throw new InvalidOperationException($"{job.SourceRepresentations}: the source's representations are not complete");
        if (pivotManifest.DataSha256 != sourceManifest.DataSha256)
            throw new InvalidOperationException($"pivot and source representations come from different data ({pivotManifest.Data} vs {sourceManifest.Data})");
        if (!string.Equals(pivotManifest.Template, sourceManifest.Template, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"pivot and source representations use different templates ({pivotManifest.Template} vs {sourceManifest.Template})");
        var pivotTokenizer = HfTokenizer.Load(job.PivotTokenizer);
        var sourceTokenizer = HfTokenizer.Load(job.SourceTokenizer);
        CheckTokenizer(pivotTokenizer, pivotManifest, job.PivotTokenizer);
        CheckTokenizer(sourceTokenizer, sourceManifest, job.SourceTokenizer);
        var pivotVocabulary = new TokenizerVocabulary(pivotTokenizer);
        var sourceVocabulary = new TokenizerVocabulary(sourceTokenizer);
        var identity = AlignmentPlan.IsIdentity(pivotVocabulary, sourceVocabulary);

        Directory.CreateDirectory(job.Output);
        var sources = new SourceIndex(sourceReader);
        var k = sourceManifest.TopK;
        var aligner = new CorpusAligner(pivotVocabulary, sourceVocabulary, job.MaxDegreeOfParallelism);
        DistributionAligner? distributions = null;
        if (!identity)
        {
            var statistics = Statistics(job, pivotReader, sources, aligner, progress, cancellationToken);
            distributions = new DistributionAligner(pivotVocabulary, sourceVocabulary, VocabularyMap.Build(statistics, pivotVocabulary, sourceVocabulary));
        }

        var manifest = pivotManifest with
        {
            Model = $"aligned:{sourceManifest.Model}",
            TopK = k,
            Shards = [],
            Complete = false,
        };
        var manifestPath = Path.Combine(job.Output, RepresentationManifest.FileName);
        var done = new Dictionary<int, RepresentationShardInfo>();
        if (File.Exists(manifestPath))
        {
            var previous = RepresentationManifest.Load(manifestPath);
            if (manifest.Incompatibility(previous) is { } reason)
                throw new InvalidOperationException($"{job.Output} holds an alignment made with other settings ({reason}); use another folder or delete it");
            foreach (var shard in previous.Shards)
            {
                var path = Path.Combine(job.Output, shard.File);
                if (File.Exists(path) && new FileInfo(path).Length == shard.Bytes && RepresentationShardFile.Sha256(path) == shard.Sha256)
                    done[shard.Index] = shard;
            }
        }

        var metadata = new Dictionary<string, string>
        {
            ["fusechat.model"] = manifest.Model,
            ["fusechat.template"] = manifest.Template,
            ["fusechat.tokenizer"] = manifest.Tokenizer,
            ["fusechat.aligned"] = identity ? "identity" : "dtw",
        };
        long conversations = 0, withoutSource = 0, positions = 0, oneHot = 0, empty = 0;
        var computed = 0;
        var total = pivotManifest.Shards.Sum(s => (long)s.Written);
        long processed = 0;
        foreach (var pivotShard in pivotManifest.Shards.OrderBy(s => s.Index))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (done.ContainsKey(pivotShard.Index))
            {
                processed += pivotShard.Written;
                continue;
            }
            var pivots = RepresentationReader.ReadShard(Path.Combine(job.PivotRepresentations, pivotShard.File)).ToList();
            var aligned = new ConversationRepresentation[pivots.Count];
            var counters = new long[4];
            Parallel.For(0, pivots.Count, new ParallelOptions { MaxDegreeOfParallelism = job.MaxDegreeOfParallelism, CancellationToken = cancellationToken },
                i =>
                {
                    var (record, stats) = AlignConversation(pivots[i], sources.Find(pivots[i].ConversationIndex), k, identity, aligner, distributions);
                    aligned[i] = record;
                    Interlocked.Add(ref counters[0], stats.WithoutSource);
                    Interlocked.Add(ref counters[1], record.Positions.Length);
                    Interlocked.Add(ref counters[2], stats.OneHot);
                    Interlocked.Add(ref counters[3], stats.Empty);
                });
            var name = pivotShard.File;
            var path = Path.Combine(job.Output, name);
            RepresentationShardFile.Write(path, aligned, k, manifest.Compression, metadata);
            done[pivotShard.Index] = pivotShard with
            {
                Tokens = aligned.Sum(r => (long)r.InputIds.Length),
                TrainedPositions = aligned.Sum(r => (long)r.Positions.Length),
                Bytes = new FileInfo(path).Length,
                Sha256 = RepresentationShardFile.Sha256(path),
            };
            manifest = manifest with { Shards = [.. done.Values.OrderBy(s => s.Index)] };
            manifest.Save(manifestPath);
            conversations += aligned.Length;
            withoutSource += counters[0];
            positions += counters[1];
            oneHot += counters[2];
            empty += counters[3];
            computed++;
            processed += pivotShard.Written;
            progress?.Report(new AlignmentProgress(2, processed, total));
        }
        manifest = manifest with { Shards = [.. done.Values.OrderBy(s => s.Index)], Complete = true, Conversations = pivotManifest.Conversations };
        manifest.Save(manifestPath);
        return new AlignmentSummary(conversations, withoutSource, identity, positions, oneHot, empty, computed);
    }

    private static void CheckTokenizer(HfTokenizer tokenizer, RepresentationManifest manifest, string path)
    {
        if (tokenizer.Count != manifest.TokenizerVocab)
            throw new InvalidOperationException(
                $"tokenizer {path} has {tokenizer.Count} tokens but the representations were made with one of {manifest.TokenizerVocab} ({manifest.Tokenizer})");
    }

    /// <summary>Pass 1: corpus co-occurrence counts, loaded when a previous run saved them.</summary>
    private static CooccurrenceStatistics Statistics(AlignmentJob job, RepresentationReader pivots, SourceIndex sources, CorpusAligner aligner,
        IProgress<AlignmentProgress>? progress, CancellationToken cancellationToken)
    {
        var path = Path.Combine(job.Output, StatisticsFileName);
        if (File.Exists(path)) return CooccurrenceStatistics.Load(path);
        var statistics = new CooccurrenceStatistics();
        var total = pivots.Manifest.Shards.Sum(s => (long)s.Written);
        long done = 0;
        foreach (var chunk in pivots.ReadAll().Chunk(ChunkSize))
        {
            var pairs = new List<(int[] PivotIds, int[] SourceIds)>(chunk.Length);
            foreach (var pivot in chunk)
                if (sources.Find(pivot.ConversationIndex) is { } source) pairs.Add((pivot.InputIds, source.InputIds));
            aligner.Align(pairs, statistics, cancellationToken);
            done += chunk.Length;
            progress?.Report(new AlignmentProgress(1, done, total));
        }
        statistics.Save(path);
        return statistics;
    }

    private readonly record struct ConversationStats(int WithoutSource, int OneHot, int Empty);

    /// <summary>The source's top-K for each trained pivot position, in the pivot's vocabulary.</summary>
    private static (ConversationRepresentation Record, ConversationStats Stats) AlignConversation(ConversationRepresentation pivot,
        ConversationRepresentation? source, int k, bool identity, CorpusAligner aligner, DistributionAligner? distributions)
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
            var alignment = aligner.AlignOne(pivot.InputIds, source.InputIds);
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

    /// <summary>Finds a source conversation by index, reading the shard that holds it (one shard cached per thread).</summary>
    private sealed class SourceIndex(RepresentationReader reader)
    {
        private readonly RepresentationShardInfo[] shards = [.. reader.Manifest.Shards.OrderBy(s => s.FirstConversation)];
        private readonly ThreadLocal<(int Index, Dictionary<long, ConversationRepresentation> Records)?> cache = new();

        public ConversationRepresentation? Find(long conversationIndex)
        {
            var shard = Array.FindIndex(shards, s => conversationIndex >= s.FirstConversation && conversationIndex < s.FirstConversation + s.Conversations);
            if (shard < 0) return null;
            if (cache.Value is not { } cached || cached.Index != shard)
            {
                var records = RepresentationReader.ReadShard(Path.Combine(reader.Folder, shards[shard].File)).ToDictionary(r => r.ConversationIndex);
                cache.Value = cached = (shard, records);
            }
            return cached.Records.GetValueOrDefault(conversationIndex);
        }
    }
}
