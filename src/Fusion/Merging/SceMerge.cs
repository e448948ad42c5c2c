using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// FuseChat's SCE merge (Select, Calculate, Erase). With delta_i = theta_i - theta_pivot:
/// Select keeps the top floor(tau * nnz(var)) positions by the population variance over i of delta_i;
/// Calculate sets w_i = mean((mask * delta_i)^2) / sum_j mean((mask * delta_j)^2) (uniform when all are zero);
/// Erase keeps delta_i only where its sign equals sign+(sum_j delta_j) (sign+ maps &gt;= 0 to +1);
/// theta = theta_pivot + sum_i w_i e_i delta_i / sum_i w_i e_i (a zero divisor counts as one).
/// </summary>
/// <remarks>
/// tau = select_topk from <see cref="MergeParameters.SelectTopK"/>. tau &gt;= 1 selects every position
/// (no mask at all), as both published implementations do; without that rule, positions where all
/// targets moved by the same amount (zero variance) would be dropped from the weights.
/// </remarks>
public sealed class SceMerge : IMergeMethod
{
    /// <summary>Creates the method in the given published variant (the paper's by default).</summary>
    public SceMerge(SceVariant variant = SceVariant.Paper) => Variant = variant;

    /// <summary>Where the top-k mask applies.</summary>
    public SceVariant Variant { get; }

    /// <inheritdoc/>
    public string Name => "sce";

    /// <inheritdoc/>
    public Tensor Merge(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global)
    {
        MergeTensors.CheckArguments(tensorName, pivot, models, perModel);
        ArgumentNullException.ThrowIfNull(global);
        using var scope = DisposeScope.Open();
        var p = pivot.To(DType.Float32);
        // Intermediates as large as the tensor are disposed as soon as they are used: peak memory is the
        // n deltas plus a few tensor-sized buffers, not several [n, ...] stacks.
        var deltas = MergeTensors.Deltas(tensorName, p, pivot, models);

        Tensor? mask = null;
        if (global.SelectTopK < 1)
        {
            using var variance = MergeTensors.PopulationVariance(deltas);
            using var nonZeroMask = variance.Ne(0);
            using var nonZeroCount = nonZeroMask.Sum();
            var k = MergeTensors.FloorFraction(global.SelectTopK, nonZeroCount.ToInt64());
            using var selected = MergeTensors.TopKMask(variance, k);
            mask = selected.To(DType.Float32);
        }

        var meanSquares = new double[deltas.Count];
        for (var i = 0; i < deltas.Count; i++)
        {
            if (mask is null)
            {
                meanSquares[i] = MergeTensors.MeanSquare(deltas[i]);
                continue;
            }
            var masked = deltas[i] * mask;
            meanSquares[i] = MergeTensors.MeanSquare(masked);
            if (Variant == SceVariant.Upstream)
            {
                deltas[i].Dispose();
                deltas[i] = masked;
            }
            else
            {
                masked.Dispose();
            }
        }
        var weights = MergeTensors.NormalisedOrUniform(meanSquares);

        using var total = MergeTensors.Sum(deltas);
        using var nonNegative = total.Ge(0);
        using var plusOne = nonNegative.To(DType.Float32);
        using var majority = plusOne * 2.0 - 1.0;
        var numerator = p.ZerosLike();
        var divisor = p.ZerosLike();
        for (var i = 0; i < deltas.Count; i++)
        {
            using var sign = deltas[i].Sign();
            using var agrees = sign.Eq(majority);
            using var erase = agrees.To(DType.Float32);
            using var kept = deltas[i] * erase;
            numerator.AddInPlace(kept, weights[i]);
            divisor.AddInPlace(erase, weights[i]);
            deltas[i].Dispose();
        }
        divisor = MergeTensors.ZeroToOne(divisor);
        return (p + numerator / divisor).MoveToOuterScope();
    }
}
