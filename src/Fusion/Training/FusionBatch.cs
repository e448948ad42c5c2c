using FuseChat.Torch;

namespace FuseChat.Fusion.Training;

/// <summary>
/// One micro-batch of fusion training data; owns its tensors (dispose it, or let a dispose scope do it).
/// </summary>
public sealed class FusionBatch : IDisposable
{
    /// <summary>Wraps the tensors (taking ownership) after checking their shapes and dtypes.</summary>
    /// <param name="ids">Input token ids [B, L] (int64).</param>
    /// <param name="labels">Gold next token per position [B, L] (int64), −100 where not trained; labels[:, t] is predicted by position t.</param>
    /// <param name="targetIds">Target ids [B, L, K] (int64).</param>
    /// <param name="targetLogits">Target logits [B, L, K] (floating point); −∞ marks unused slots.</param>
    public FusionBatch(Tensor ids, Tensor labels, Tensor targetIds, Tensor targetLogits)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(targetIds);
        ArgumentNullException.ThrowIfNull(targetLogits);
        var shape = ids.Shape;
        if (shape.Length != 2) throw new ArgumentException($"ids must be [B, L], got [{string.Join(", ", shape)}]", nameof(ids));
        if (!labels.Shape.AsSpan().SequenceEqual(shape)) throw new ArgumentException("labels must have the ids' shape", nameof(labels));
        var targetShape = targetIds.Shape;
        if (targetShape.Length != 3 || targetShape[0] != shape[0] || targetShape[1] != shape[1])
            throw new ArgumentException($"target ids must be [{shape[0]}, {shape[1]}, K]", nameof(targetIds));
        if (!targetLogits.Shape.AsSpan().SequenceEqual(targetShape)) throw new ArgumentException("target logits must have the target ids' shape", nameof(targetLogits));
        if (ids.DType != DType.Int64 || labels.DType != DType.Int64 || targetIds.DType != DType.Int64)
            throw new ArgumentException("ids, labels and target ids must be int64");
        if (!targetLogits.DType.IsFloatingPoint()) throw new ArgumentException("target logits must be floating point", nameof(targetLogits));
        Ids = ids.DetachFromScope();
        Labels = labels.DetachFromScope();
        TargetIds = targetIds.DetachFromScope();
        TargetLogits = targetLogits.DetachFromScope();
    }

    /// <summary>Input token ids [B, L].</summary>
    public Tensor Ids { get; }

    /// <summary>Gold next tokens [B, L], −100 where not trained.</summary>
    public Tensor Labels { get; }

    /// <summary>Target ids [B, L, K].</summary>
    public Tensor TargetIds { get; }

    /// <summary>Target logits [B, L, K].</summary>
    public Tensor TargetLogits { get; }

    /// <summary>Number of sequences.</summary>
    public long BatchSize => Ids.Size(0);

    /// <summary>
    /// Builds a batch of one conversation from host arrays: <paramref name="labels"/> are already shifted
    /// (labels[t] is the token after ids[t]), <paramref name="targets"/> has one row per position.
    /// </summary>
    public static FusionBatch FromConversation(long[] ids, long[] labels, TopKTargets targets)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(targets);
        if (labels.Length != ids.Length || targets.Length != ids.Length)
            throw new ArgumentException($"ids ({ids.Length}), labels ({labels.Length}) and targets ({targets.Length}) must have one entry per position");
        using var scope = DisposeScope.Open();
        var l = ids.Length;
        return new FusionBatch(
            Tensor.From<long>(ids, [1, l]),
            Tensor.From<long>(labels, [1, l]),
            Tensor.From<long>(targets.Ids, [1, l, targets.K]),
            Tensor.From<float>(targets.Logits, [1, l, targets.K]));
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Ids.Dispose();
        Labels.Dispose();
        TargetIds.Dispose();
        TargetLogits.Dispose();
    }
}
