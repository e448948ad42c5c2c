using FuseChat.Fusion.Models;
using FuseChat.Fusion.Templates;
using FuseChat.Torch;

namespace FuseChat.Fusion.Representations;

/// <summary>
/// Runs a model over tokenized conversations and keeps Stage 1's per-position top-K logits and the
/// per-conversation metric_ce. Conversations are sorted by length and batched up to a token budget, so
/// a batch pads only to its own longest member; right padding cannot change the real positions'
/// logits because attention is causal. Top-K and the cross entropy are computed on the model's
/// device for the trained positions only: just [positions, K] values and one CE per position are
/// copied to the host, never full-vocabulary logits.
/// </summary>
public sealed class RepresentationComputer
{
    private readonly LlamaModel model;
    private readonly Device device;

    /// <summary>Creates a computer for <paramref name="model"/>.</summary>
    /// <param name="model">The model (its parameters' device is where the work runs).</param>
    /// <param name="topK">Logits kept per trained position.</param>
    /// <param name="maxBatchTokens">Most tokens, padding included, per forward pass.</param>
    /// <param name="usableVocabulary">
    /// Rows the tokenizer can produce (default: all). A checkpoint may have more rows than tokens
    /// (Qwen1.5: 151936 rows, 151646 tokens); ids beyond the tokenizer must never enter the top-K,
    /// since no later stage can spell them.
    /// </param>
    public RepresentationComputer(LlamaModel model, int topK, int maxBatchTokens, int? usableVocabulary = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (topK < 1 || topK > model.Config.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(topK), topK, $"top-k must lie in 1..{model.Config.VocabSize} (the vocabulary)");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchTokens, 1);
        this.model = model;
        UsableVocabulary = usableVocabulary ?? model.Config.VocabSize;
        if (UsableVocabulary < topK || UsableVocabulary > model.Config.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(usableVocabulary), usableVocabulary, $"usable vocabulary must lie in {topK}..{model.Config.VocabSize}");
        TopK = topK;
        MaxBatchTokens = maxBatchTokens;
        device = model.Device;
    }

    /// <summary>Logits kept per trained position.</summary>
    public int TopK { get; }

    /// <summary>Trained positions per pass of the output head; null: <see cref="LlamaModel.HeadChunk"/> (tests set a few).</summary>
    internal int? HeadChunk { get; init; }

    /// <summary>Leading rows of the output matrix that top-K may choose from.</summary>
    public int UsableVocabulary { get; }

    /// <summary>Most tokens per forward pass.</summary>
    public int MaxBatchTokens { get; }

    /// <summary>Longest sequence the model takes; longer conversations are truncated to it.</summary>
    public int MaxPositions => model.Config.MaxPositions;

    /// <summary>
    /// Computes the representations of <paramref name="inputs"/>; the result keeps input order.
    /// </summary>
    /// <param name="inputs">The conversations.</param>
    /// <param name="batchDone">Called after each forward pass with its conversations and real tokens.</param>
    /// <param name="cancellationToken">Checked before each forward pass.</param>
    public RepresentationBatchResult Compute(IReadOnlyList<RepresentationInput> inputs, Action<int, long>? batchDone = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var prepared = new Prepared[inputs.Count];
        var truncated = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            if (input.Ids.Length != input.Trained.Length)
                throw new ArgumentException($"conversation {input.Id}: {input.Ids.Length} ids but {input.Trained.Length} trained flags");
            foreach (var id in input.Ids)
                if ((uint)id >= (uint)model.Config.VocabSize)
                    throw new ArgumentException($"conversation {input.Id}: token id {id} is outside the model's vocabulary of {model.Config.VocabSize}");
            var length = input.Ids.Length;
            var cut = length > MaxPositions;
            if (cut)
            {
                truncated++;
                length = MaxPositions;
            }
            prepared[i] = new Prepared(input, length, cut, NextTokenLabels.Positions(input.Trained, length));
        }

        var results = new ConversationRepresentation?[inputs.Count];
        long tokens = 0, padded = 0;
        // Longest first: each batch's first member sets its padded length. Conversations without a
        // trained position never reach the model.
        var order = Enumerable.Range(0, prepared.Length)
            .Where(i => prepared[i].Positions.Length > 0)
            .OrderByDescending(i => prepared[i].Length).ThenBy(i => i)
            .ToArray();
        var start = 0;
        while (start < order.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var longest = prepared[order[start]].Length;
            var count = Math.Max(1, Math.Min(order.Length - start, MaxBatchTokens / longest));
            var batch = order.AsSpan(start, count).ToArray();
            RunBatch(prepared, batch, longest, results);
            var real = batch.Sum(i => (long)prepared[i].Length);
            tokens += real;
            padded += (long)count * longest - real;
            batchDone?.Invoke(count, real);
            start += count;
        }

        var dropped = new List<string>();
        var records = new List<ConversationRepresentation>(inputs.Count);
        for (var i = 0; i < prepared.Length; i++)
        {
            if (results[i] is { } record) records.Add(record);
            else dropped.Add(prepared[i].Input.Id);
        }
        return new RepresentationBatchResult(records, dropped, truncated, tokens, padded);
    }

    private void RunBatch(Prepared[] prepared, int[] batch, int longest, ConversationRepresentation?[] results)
    {
        var k = TopK;
        var ids = new long[batch.Length * longest];
        var rows = new List<long>();
        var gold = new List<long>();
        for (var b = 0; b < batch.Length; b++)
        {
            var p = prepared[batch[b]];
            for (var t = 0; t < p.Length; t++) ids[b * longest + t] = p.Input.Ids[t];
            foreach (var t in p.Positions)
            {
                rows.Add((long)b * longest + t);
                gold.Add(p.Input.Ids[t + 1]);
            }
        }

        var topValues = new Half[rows.Count * k];
        var topIds = new int[rows.Count * k];
        var losses = new float[rows.Count];
        using (NoGradScope.Enter())
        using (DisposeScope.Open())
        {
            var input = Tensor.From<long>(ids, [batch.Length, longest], device);
            var hidden = model.Body(input);
            // Only trained positions reach the output head: the others are neither stored nor part of the metric. The
            // head runs over chunks of them, so that a batch never holds [tokens, vocabulary] logits (8 GB in bf16 for
            // a 16k-token batch at a 256k vocabulary, and as much again for their fp32 copy).
            var trained = hidden.Reshape(-1, hidden.Size(2)).IndexSelect(0, Tensor.From<long>([.. rows], device));
            var goldIds = Tensor.From<long>([.. gold], device);
            var chunk = HeadChunk ?? LlamaModel.HeadChunk(model.Config.VocabSize);
            for (var start = 0; start < rows.Count; start += chunk)
            {
                using var chunkScope = DisposeScope.Open();
                var n = Math.Min(chunk, rows.Count - start);
                var selected = model.Head(trained.Narrow(0, start, n)).To(DType.Float32);
                var vocab = selected.Size(1);
                var (values, indices) = (vocab > UsableVocabulary ? selected.Narrow(1, 0, UsableVocabulary) : selected).TopK(k, -1);
                var goldLogits = selected.Gather(1, goldIds.Narrow(0, start, n).Unsqueeze(1)).Squeeze(1);
                var ce = selected.LogSumExp(-1) - goldLogits;
                values.To(DType.Float16).ToArray<Half>().CopyTo(topValues, start * k);
                indices.To(DType.Int32).ToArray<int>().CopyTo(topIds, start * k);
                ce.ToArray<float>().CopyTo(losses, start);
            }
        }

        var offset = 0;
        foreach (var index in batch)
        {
            var p = prepared[index];
            var n = p.Positions.Length;
            double sum = 0;
            for (var j = 0; j < n; j++) sum += losses[offset + j];
            results[index] = new ConversationRepresentation(
                p.Input.ConversationIndex, p.Input.Id, (float)(sum / n), p.Truncated,
                p.Input.Ids.AsSpan(0, p.Length).ToArray(), p.Input.Trained.AsSpan(0, p.Length).ToArray(), p.Positions, k,
                topIds.AsSpan(offset * k, n * k).ToArray(), topValues.AsSpan(offset * k, n * k).ToArray());
            offset += n;
        }
    }

    private sealed record Prepared(RepresentationInput Input, int Length, bool Truncated, int[] Positions);
}
