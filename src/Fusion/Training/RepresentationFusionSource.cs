using System.Security.Cryptography;
using System.Text;
using FuseChat.Fusion.Representations;
using FuseChat.Fusion.Templates;

namespace FuseChat.Fusion.Training;

/// <summary>
/// Training batches for one pairwise fusion, from the pivot's representations and one source's aligned
/// representations: per conversation, the MinCE rule picks the source's or the pivot's top-K as the
/// target (positions the source has no entry for fall back to the pivot's). One conversation per batch,
/// so nothing is padded; gradient accumulation gathers conversations into an optimiser step. Without a
/// source, the pivot's own top-K is the target throughout.
/// </summary>
public sealed class RepresentationFusionSource : IFusionBatchSource
{
    private readonly Example[] examples;
    private readonly EpochOrder order;

    private sealed record Example(long[] Ids, long[] Labels, TopKTargets Targets);

    /// <summary>Loads both folders (they must come from the same data and template).</summary>
    public RepresentationFusionSource(string pivotRepresentations, string? alignedSource, int shuffleSeed = 42)
    {
        var pivotReader = RepresentationReader.Open(pivotRepresentations);
        var sourceReader = alignedSource is null ? null : RepresentationReader.Open(alignedSource);
        if (sourceReader is not null && sourceReader.Manifest.DataSha256 != pivotReader.Manifest.DataSha256)
            throw new InvalidOperationException($"{alignedSource} was aligned from other data than {pivotRepresentations}");
        var sources = sourceReader?.ReadAll().ToDictionary(r => r.ConversationIndex) ?? [];
        var list = new List<Example>();
        foreach (var pivot in pivotReader.ReadAll())
        {
            var pivotTargets = Targets(pivot);
            var (targets, usedSource) = sources.TryGetValue(pivot.ConversationIndex, out var source)
                ? MinCeSelection.Select(pivotTargets, pivot.MetricCe, Targets(source), source.MetricCe)
                : (pivotTargets, false);
            if (usedSource) SourceSelected++;
            var labels = NextTokenLabels.For(pivot.InputIds, pivot.Trained, pivot.InputIds.Length);
            list.Add(new Example(pivot.InputIds.Select(i => (long)i).ToArray(), labels, targets));
        }
        if (list.Count == 0) throw new InvalidOperationException($"{pivotRepresentations} holds no conversation to train on");
        examples = [.. list];
        order = new EpochOrder(examples.Length, shuffleSeed);
        Fingerprint = FingerprintOf(pivotReader.Manifest, sourceReader?.Manifest, shuffleSeed);
    }

    /// <summary>Conversations whose target is the source's distribution (MinCE chose it).</summary>
    public int SourceSelected { get; }

    /// <summary>Conversations in the data.</summary>
    public int Conversations => examples.Length;

    /// <inheritdoc/>
    public int BatchesPerEpoch => examples.Length;

    /// <inheritdoc/>
    public string Fingerprint { get; }

    /// <inheritdoc/>
    public FusionBatch GetBatch(int epoch, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (index < 0 || index >= examples.Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"the source has {examples.Length} conversations");
        var e = examples[order[epoch, index]];
        return FusionBatch.FromConversation(e.Ids, e.Labels, e.Targets);
    }

    /// <summary>One row of K per position: the stored top-K at trained positions, no entry elsewhere.</summary>
    private static TopKTargets Targets(ConversationRepresentation r)
    {
        var length = r.InputIds.Length;
        var k = r.TopK;
        var ids = new long[length * k];
        var logits = new float[length * k];
        Array.Fill(logits, float.NegativeInfinity);
        for (var i = 0; i < r.Positions.Length; i++)
        {
            var p = r.Positions[i];
            var from = r.IdsAt(i);
            var values = r.LogitsAt(i);
            for (var j = 0; j < k; j++)
            {
                ids[p * k + j] = Math.Max(0, from[j]);
                logits[p * k + j] = (float)values[j];
            }
        }
        return new TopKTargets(length, k, ids, logits);
    }

    private static string FingerprintOf(RepresentationManifest pivot, RepresentationManifest? source, int seed)
    {
        var text = string.Join(",", pivot.Shards.Select(s => s.Sha256)) + "|" + string.Join(",", source?.Shards.Select(s => s.Sha256) ?? []) + "|" + seed;
        return "representations:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }
}
