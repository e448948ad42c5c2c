using FuseChat.Fusion.Templates;
using FuseChat.Torch;

namespace FuseChat.Fusion.Training;

/// <summary>
/// The pairwise-fusion objective of FuseChat (METHOD.md stage 3):
/// L = λ·CE(z, y) + (1 − λ)·Σ_t m_t·(−Σ_v P*_t(v)·log softmax(z_t)_v) / Σ_t m_t,
/// with P*_t = softmax(topK_logits_t / T) on the K target ids.
/// </summary>
/// <remarks>
/// <para>The fusion term gathers log-probabilities at the K target ids ([B, L, K]) instead of building a
/// dense [B, L, V] target: log softmax(z)_v = z_v − logsumexp(z), so only the gather and one logsumexp
/// per position are needed.</para>
/// <para>Masks. Position t is trained by the CE term when labels[t] ≠ −100. m_t = 1 when the position is
/// trained AND has at least one target slot with a logit above −∞; a position whose K target logits are all
/// −∞ has no target distribution and contributes no fusion term (m_t = 0), rather than a NaN from
/// softmax(−∞, …, −∞). Padding slots (id 0, logit −∞) get probability 0. A batch without any trained
/// position (or any fusion position) gives 0 for that part instead of 0/0. A +∞ or NaN target logit is not
/// masked: it makes the loss NaN so that the trainer stops on corrupt data.</para>
/// <para>Both parts are means over their own positions in the batch (like Hugging Face's token-mean CE),
/// computed in at least fp32 even when the logits are bf16 or f16.</para>
/// </remarks>
public sealed class FusionLoss
{
    /// <summary>Label value of positions without loss.</summary>
    public const long IgnoreIndex = NextTokenLabels.Ignore;

    /// <summary>Creates the loss; λ = 0.9 and T = 1 are the paper's values.</summary>
    public FusionLoss(double lambda = 0.9, double temperature = 1.0)
    {
        if (!(lambda is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "lambda must be in [0, 1]");
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be finite and > 0");
        Lambda = lambda;
        Temperature = temperature;
    }

    /// <summary>Weight of the cross entropy against the gold tokens (the rest weighs the fusion term).</summary>
    public double Lambda { get; }

    /// <summary>Temperature dividing the target logits before their softmax.</summary>
    public double Temperature { get; }

    /// <summary>
    /// Computes the loss. Tensors returned are owned by the caller's current dispose scope.
    /// </summary>
    /// <param name="logits">Model logits [B, L, V]; logits[:, t] predicts labels[:, t].</param>
    /// <param name="labels">Gold next tokens [B, L] (int64), −100 where not trained; already shifted by the caller.</param>
    /// <param name="targetIds">Target token ids [B, L, K] (int64, in [0, V)).</param>
    /// <param name="targetLogits">Target logits [B, L, K]; −∞ marks an unused slot.</param>
    public FusionLossResult Compute(Tensor logits, Tensor labels, Tensor targetIds, Tensor targetLogits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(targetIds);
        ArgumentNullException.ThrowIfNull(targetLogits);
        var shape = logits.Shape;
        if (shape.Length != 3) throw new ArgumentException($"logits must be [B, L, V], got [{string.Join(", ", shape)}]", nameof(logits));
        var (b, l, v) = (shape[0], shape[1], shape[2]);
        if (!labels.Shape.AsSpan().SequenceEqual([b, l]))
            throw new ArgumentException($"labels must be [{b}, {l}], got [{string.Join(", ", labels.Shape)}]", nameof(labels));
        var idShape = targetIds.Shape;
        if (idShape.Length != 3 || idShape[0] != b || idShape[1] != l)
            throw new ArgumentException($"target ids must be [{b}, {l}, K], got [{string.Join(", ", idShape)}]", nameof(targetIds));
        if (!targetLogits.Shape.AsSpan().SequenceEqual(idShape))
            throw new ArgumentException($"target logits must have the target ids' shape [{string.Join(", ", idShape)}], got [{string.Join(", ", targetLogits.Shape)}]", nameof(targetLogits));
        if (labels.DType != DType.Int64 || targetIds.DType != DType.Int64)
            throw new ArgumentException("labels and target ids must be int64");

        Tensor total, crossEntropy, fusion, trained, fused;
        using (var scope = DisposeScope.Open())
        {
            // Low-precision logits lose too much in logsumexp over a large vocabulary: compute in fp32.
            var z = logits.DType is DType.BFloat16 or DType.Float16 ? logits.To(DType.Float32) : logits;
            var dtype = z.DType;

            var trainedMask = labels.Ne(IgnoreIndex);
            var trainedCount = trainedMask.To(dtype).Sum();
            var ceSum = Functional.CrossEntropy(z.Reshape(-1, v), labels.Reshape(-1), IgnoreIndex, Reduction.Sum);
            crossEntropy = ceSum / trainedCount.Clamp(min: 1);

            var logNormaliser = z.LogSumExp(-1, keepDim: true);                 // [B, L, 1]
            var logProbabilities = z.Gather(-1, targetIds) - logNormaliser;     // [B, L, K]
            var hasSlot = targetLogits.Gt(double.NegativeInfinity);             // [B, L, K]
            var hasTarget = hasSlot.Any(-1);                                    // [B, L]
            var scaled = targetLogits.To(dtype) / Temperature;
            // Rows without any slot are replaced by zeros so that their softmax is finite; they are masked below.
            var safe = Tensor.Where(hasTarget.Unsqueeze(-1), scaled, scaled.ZerosLike());
            var targetProbabilities = Functional.Softmax(safe, -1).Detach();
            var softCrossEntropy = -(targetProbabilities * logProbabilities).Sum(-1);   // [B, L]
            var fusionMask = trainedMask.LogicalAnd(hasTarget);
            var fusionCount = fusionMask.To(dtype).Sum();
            // Where, not a product with the mask: a masked position's value must not leak in as NaN · 0.
            var fusionSum = Tensor.Where(fusionMask, softCrossEntropy, softCrossEntropy.ZerosLike()).Sum();
            fusion = fusionSum / fusionCount.Clamp(min: 1);

            total = crossEntropy * Lambda + fusion * (1 - Lambda);
            trained = trainedCount;
            fused = fusionCount;
            foreach (var t in (Tensor[])[total, crossEntropy, fusion, trained, fused]) t.MoveToOuterScope();
        }
        return new FusionLossResult(total, crossEntropy, fusion, trained, fused);
    }
}
