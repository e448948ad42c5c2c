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
        var shape = logits.Shape;
        if (shape.Length != 3) throw new ArgumentException($"logits must be [B, L, V], got [{string.Join(", ", shape)}]", nameof(logits));
        CheckTargets(shape[0], shape[1], labels, targetIds, targetLogits);

        Tensor total, crossEntropy, fusion, trained, fused;
        using (var scope = DisposeScope.Open())
        {
            var (trainedMask, fusionMask) = Masks(labels, targetLogits);
            var (ceSum, fusionSum) = Sums(logits, labels, targetIds, targetLogits, fusionMask);
            var dtype = ceSum.DType;
            var trainedCount = trainedMask.To(dtype).Sum();
            var fusionCount = fusionMask.To(dtype).Sum();
            crossEntropy = ceSum / trainedCount.Clamp(min: 1);
            fusion = fusionSum / fusionCount.Clamp(min: 1);
            total = crossEntropy * Lambda + fusion * (1 - Lambda);
            trained = trainedCount;
            fused = fusionCount;
            foreach (var t in (Tensor[])[total, crossEntropy, fusion, trained, fused]) t.MoveToOuterScope();
        }
        return new FusionLossResult(total, crossEntropy, fusion, trained, fused);
    }

    /// <summary>
    /// The loss of the logits that <paramref name="head"/> makes of <paramref name="hidden"/>, computed and
    /// back-propagated (times <paramref name="scale"/>) <paramref name="chunkRows"/> trained positions at a time.
    /// No [B, L, V] tensor exists: only one chunk's logits and their fp32 copies, which at FuseChat-3.0's 128k to 256k
    /// vocabularies would otherwise outweigh a checkpointed model's layers by far. Untrained positions never reach
    /// the head, since they add nothing to either term. The counts that normalise both terms are taken from the labels
    /// and targets up front, so the chunks' losses add up to <see cref="Compute"/>'s; the gradients accumulate in
    /// the head's weights and in <paramref name="hidden"/>'s. A chunk whose loss is not finite is not
    /// back-propagated and ends the pass: the result's total is then not finite, for the caller to stop on.
    /// </summary>
    /// <param name="head">Logits [N, V] for hidden states [N, H] (the model's final norm and output projection).</param>
    /// <param name="hidden">The last layer's output [B, L, H], a leaf that requires gradient.</param>
    /// <param name="labels">As for <see cref="Compute"/>.</param>
    /// <param name="targetIds">As for <see cref="Compute"/>.</param>
    /// <param name="targetLogits">As for <see cref="Compute"/>.</param>
    /// <param name="chunkRows">Positions per chunk (at least 1).</param>
    /// <param name="scale">Factor on the back-propagated loss (1 / micro-batches for gradient accumulation).</param>
    /// <returns>The loss and its parts as values (0-d fp64 CPU tensors without history) in the caller's scope.</returns>
    public FusionLossResult BackwardInChunks(Func<Tensor, Tensor> head, Tensor hidden, Tensor labels, Tensor targetIds,
        Tensor targetLogits, long chunkRows, double scale = 1)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 1);
        var shape = hidden.Shape;
        if (shape.Length != 3) throw new ArgumentException($"hidden must be [B, L, H], got [{string.Join(", ", shape)}]", nameof(hidden));
        var (b, l, width) = (shape[0], shape[1], shape[2]);
        CheckTargets(b, l, labels, targetIds, targetLogits);

        double ceTotal = 0, fusionTotal = 0, trainedCount, fusionCount;
        using (DisposeScope.Open())
        {
            var k = targetIds.Size(2);
            var (trainedMask, fusionMask) = Masks(labels, targetLogits);
            trainedCount = trainedMask.Sum().ToDouble();
            fusionCount = fusionMask.Sum().ToDouble();
            var rows = trainedMask.Reshape(-1).NonZero().Reshape(-1);   // the trained positions, in order
            var flatHidden = hidden.Reshape(b * l, width);
            var flatFusionMask = fusionMask.Reshape(-1);
            var flatLabels = labels.Reshape(-1);
            var flatIds = targetIds.Reshape(b * l, k);
            var flatTargets = targetLogits.Reshape(b * l, k);
            // The weights of a chunk's sums in the whole loss, as Compute divides the whole batch's sums.
            var ceWeight = Lambda / Math.Max(trainedCount, 1) * scale;
            var fusionWeight = (1 - Lambda) / Math.Max(fusionCount, 1) * scale;
            for (long start = 0; start < rows.Size(0); start += chunkRows)
            {
                using var chunkScope = DisposeScope.Open();
                var chunk = rows.Narrow(0, start, Math.Min(chunkRows, rows.Size(0) - start));
                var (ceSum, fusionSum) = Sums(head(flatHidden.IndexSelect(0, chunk)), flatLabels.IndexSelect(0, chunk),
                    flatIds.IndexSelect(0, chunk), flatTargets.IndexSelect(0, chunk), flatFusionMask.IndexSelect(0, chunk));
                var sums = Tensor.Stack([ceSum.Detach(), fusionSum.Detach()]).To(DType.Float64).To(Device.Cpu).ToArray<double>();
                ceTotal += sums[0];
                fusionTotal += sums[1];
                if (!double.IsFinite(sums[0]) || !double.IsFinite(sums[1])) break;
                (ceSum * ceWeight + fusionSum * fusionWeight).Backward();
            }
        }

        var crossEntropy = ceTotal / Math.Max(trainedCount, 1);
        var fusion = fusionTotal / Math.Max(fusionCount, 1);
        return new FusionLossResult(Value(Lambda * crossEntropy + (1 - Lambda) * fusion), Value(crossEntropy), Value(fusion),
            Value(trainedCount), Value(fusionCount));

        static Tensor Value(double value) => Tensor.Scalar(value, DType.Float64);
    }

    /// <summary>Throws unless the labels are [b, l] and the target ids and logits [b, l, K], with int64 labels and ids.</summary>
    private static void CheckTargets(long b, long l, Tensor labels, Tensor targetIds, Tensor targetLogits)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(targetIds);
        ArgumentNullException.ThrowIfNull(targetLogits);
        if (!labels.Shape.AsSpan().SequenceEqual([b, l]))
            throw new ArgumentException($"labels must be [{b}, {l}], got [{string.Join(", ", labels.Shape)}]", nameof(labels));
        var idShape = targetIds.Shape;
        if (idShape.Length != 3 || idShape[0] != b || idShape[1] != l)
            throw new ArgumentException($"target ids must be [{b}, {l}, K], got [{string.Join(", ", idShape)}]", nameof(targetIds));
        if (!targetLogits.Shape.AsSpan().SequenceEqual(idShape))
            throw new ArgumentException($"target logits must have the target ids' shape [{string.Join(", ", idShape)}], got [{string.Join(", ", targetLogits.Shape)}]", nameof(targetLogits));
        if (labels.DType != DType.Int64 || targetIds.DType != DType.Int64)
            throw new ArgumentException("labels and target ids must be int64");
    }

    /// <summary>
    /// Per position: trained (a label) and fused (trained and at least one target slot above −∞, m_t of the paper).
    /// </summary>
    private static (Tensor Trained, Tensor Fused) Masks(Tensor labels, Tensor targetLogits)
    {
        var trained = labels.Ne(IgnoreIndex);
        return (trained, trained.LogicalAnd(targetLogits.Gt(double.NegativeInfinity).Any(-1)));
    }

    /// <summary>
    /// The sum of the cross entropy over the trained positions and of the soft cross entropy against the targets over
    /// <paramref name="fusionMask"/>, for logits of any leading shape with the vocabulary last, in at least fp32.
    /// </summary>
    private (Tensor CrossEntropy, Tensor Fusion) Sums(Tensor logits, Tensor labels, Tensor targetIds, Tensor targetLogits, Tensor fusionMask)
    {
        // Low-precision logits lose too much in logsumexp over a large vocabulary: compute in fp32.
        var z = logits.DType is DType.BFloat16 or DType.Float16 ? logits.To(DType.Float32) : logits;
        var v = z.Size(-1);
        var ceSum = Functional.CrossEntropy(z.Reshape(-1, v), labels.Reshape(-1), IgnoreIndex, Reduction.Sum);

        var logNormaliser = z.LogSumExp(-1, keepDim: true);                 // [..., 1]
        var logProbabilities = z.Gather(-1, targetIds) - logNormaliser;     // [..., K]
        var hasTarget = targetLogits.Gt(double.NegativeInfinity).Any(-1);   // [...]
        var scaled = targetLogits.To(z.DType) / Temperature;
        // Rows without any slot are replaced by zeros so that their softmax is finite; they are masked below.
        var safe = Tensor.Where(hasTarget.Unsqueeze(-1), scaled, scaled.ZerosLike());
        var targetProbabilities = Functional.Softmax(safe, -1).Detach();
        var softCrossEntropy = -(targetProbabilities * logProbabilities).Sum(-1);
        // Where, not a product with the mask: a masked position's value must not leak in as NaN · 0.
        return (ceSum, Tensor.Where(fusionMask, softCrossEntropy, softCrossEntropy.ZerosLike()).Sum());
    }
}
