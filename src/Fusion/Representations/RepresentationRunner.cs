using System.Security.Cryptography;
using FuseChat.Fusion.Data;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tokenization;
using FuseChat.Torch;

namespace FuseChat.Fusion.Representations;

/// <summary>
/// Stage 1 for one model: renders every conversation with the pivot's template, tokenizes it with
/// this model's tokenizer, runs the model and writes top-K logits, ids and metric_ce to Arrow shards.
/// Resumable shard by shard: a shard appears under its final name only when complete, the manifest
/// is replaced after each one, and a rerun keeps every shard the manifest vouches for (name, size and
/// SHA-256) and computes the rest. Cancelling leaves only complete shards.
/// </summary>
public static class RepresentationRunner
{
    /// <summary>Loads the job's model and tokenizer and runs the pass.</summary>
    public static RepresentationSummary Run(RepresentationJob job, IProgress<RepresentationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        job.Options.Validate();
        var tokenizer = HfTokenizer.Load(job.ModelFolder);
        var (model, _) = PretrainedModel.Load(job.ModelFolder, job.DType, job.Device);
        using (model)
        {
            model.Train(false);
            return Run(model, tokenizer, job, progress, cancellationToken);
        }
    }

    /// <summary>Runs the pass with a model and tokenizer already loaded from <see cref="RepresentationJob.ModelFolder"/>.</summary>
    public static RepresentationSummary Run(LlamaModel model, HfTokenizer tokenizer, RepresentationJob job,
        IProgress<RepresentationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(job);
        var options = job.Options;
        options.Validate();
        var template = ChatTemplates.Get(job.Template);
        if (tokenizer.Count > model.Config.VocabSize)
            throw new InvalidOperationException($"the tokenizer has {tokenizer.Count} tokens but the model only {model.Config.VocabSize} rows");
        var dataPath = Path.GetFullPath(job.DataPath);
        if (!File.Exists(dataPath)) throw new FileNotFoundException($"chat data file {dataPath} does not exist", dataPath);
        var output = Path.GetFullPath(job.OutputFolder);
        Directory.CreateDirectory(output);

        var manifestPath = Path.Combine(output, RepresentationManifest.FileName);
        var manifest = new RepresentationManifest
        {
            Model = Path.GetFullPath(job.ModelFolder),
            Tokenizer = Path.Combine(Path.GetFullPath(job.ModelFolder), "tokenizer.json"),
            TokenizerVocab = tokenizer.Count,
            Template = template.Name,
            TopK = options.TopK,
            ShardSize = options.ShardSize,
            MaxPositions = model.Config.MaxPositions,
            Dtype = model.DType.ShortName(),
            Compression = options.Compression,
            Data = dataPath,
            DataBytes = new FileInfo(dataPath).Length,
            DataSha256 = Sha256(dataPath),
            MaxBatchTokens = options.MaxBatchTokens,
        };
        var done = new SortedDictionary<int, RepresentationShardInfo>();
        if (File.Exists(manifestPath))
        {
            var previous = RepresentationManifest.Load(manifestPath);
            if (manifest.Incompatibility(previous) is { } reason)
                throw new InvalidOperationException($"{output} holds representations computed with other settings ({reason}); choose another output folder or empty it");
            foreach (var shard in previous.Shards)
                if (IsIntact(output, shard)) done[shard.Index] = shard;
        }

        var metadata = new Dictionary<string, string>
        {
            ["fusechat.model"] = manifest.Model,
            ["fusechat.template"] = manifest.Template,
            ["fusechat.tokenizer"] = manifest.Tokenizer,
        };
        var computer = new RepresentationComputer(model, options.TopK, options.MaxBatchTokens, tokenizer.Count);
        var total = File.ReadLines(dataPath).LongCount(line => !string.IsNullOrWhiteSpace(line));
        long conversationsDone = 0, tokensComputed = 0, padded = 0;
        int computed = 0, skipped = 0;
        var shardIndex = 0;
        foreach (var chunk in ChatDataset.Read(dataPath).Chunk(options.ShardSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var first = (long)shardIndex * options.ShardSize;
            if (done.TryGetValue(shardIndex, out var kept) && kept.FirstConversation == first && kept.Conversations == chunk.Length)
            {
                skipped++;
                conversationsDone += chunk.Length;
                progress?.Report(new RepresentationProgress(conversationsDone, total, tokensComputed, done.Count));
                shardIndex++;
                continue;
            }

            var inputs = chunk.Select((record, j) =>
            {
                var encoded = ChatEncoder.Encode(record.Conversation, template, tokenizer);
                return new RepresentationInput(first + j, record.Id, encoded.Ids, encoded.Trained);
            }).ToList();
            var result = computer.Compute(inputs, (conversations, tokens) =>
            {
                conversationsDone += conversations;
                tokensComputed += tokens;
                progress?.Report(new RepresentationProgress(conversationsDone, total, tokensComputed, done.Count));
            }, cancellationToken);
            // Dropped conversations never reach the model: count them as done too.
            conversationsDone += result.DroppedIds.Count;
            padded += result.PaddedTokens;

            var name = RepresentationShardFile.Name(shardIndex);
            var path = Path.Combine(output, name);
            RepresentationShardFile.Write(path, result.Records, options.TopK, options.Compression, metadata);
            done[shardIndex] = new RepresentationShardInfo
            {
                Index = shardIndex,
                File = name,
                FirstConversation = first,
                Conversations = chunk.Length,
                Written = result.Records.Count,
                Dropped = result.DroppedIds.Count,
                Truncated = result.Truncated,
                Tokens = result.Records.Sum(r => (long)r.InputIds.Length),
                TrainedPositions = result.Records.Sum(r => (long)r.Positions.Length),
                Bytes = new FileInfo(path).Length,
                Sha256 = RepresentationShardFile.Sha256(path),
            };
            manifest = manifest with { Shards = [.. done.Values] };
            manifest.Save(manifestPath);
            computed++;
            progress?.Report(new RepresentationProgress(conversationsDone, total, tokensComputed, done.Count));
            shardIndex++;
        }

        // Shards past the end belong to no conversation of this data file.
        var shards = done.Values.Where(s => s.Index < shardIndex).ToList();
        manifest = manifest with { Shards = shards, Complete = true, Conversations = shards.Sum(s => (long)s.Conversations) };
        manifest.Save(manifestPath);
        return new RepresentationSummary(
            manifest.Conversations,
            shards.Sum(s => (long)s.Written),
            manifest.Dropped,
            manifest.Truncated,
            manifest.Tokens,
            shards.Sum(s => s.TrainedPositions),
            manifest.Bytes,
            computed,
            skipped,
            padded);
    }

    private static bool IsIntact(string folder, RepresentationShardInfo shard)
    {
        var path = Path.Combine(folder, shard.File);
        return File.Exists(path) && new FileInfo(path).Length == shard.Bytes && RepresentationShardFile.Sha256(path) == shard.Sha256;
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
