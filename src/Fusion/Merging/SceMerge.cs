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
        var deltas = MergeTensors.StackedDeltas(tensorName, p, pivot, models);

        var masked = deltas;
        if (global.SelectTopK < 1)
        {
            var variance = deltas.Var([0], unbiased: false);
            var nonZero = variance.Ne(0).Sum().ToInt64();
            var k = MergeTensors.FloorFraction(global.SelectTopK, nonZero);
            var mask = MergeTensors.TopKMask(variance, k).To(DType.Float32);
            masked = deltas * mask;
        }

        var weights = MergeTensors.NormalisedOrUniform(MergeTensors.MeanSquares(masked));
        var used = Variant == SceVariant.Upstream ? masked : deltas;

        var majority = used.Sum(0).Ge(0).To(DType.Float32) * 2.0 - 1.0;
        var erase = used.Sign().Eq(majority).To(DType.Float32);
        var w = MergeTensors.WeightColumn(weights, used.Dim, used.Device);
        var keptWeights = erase * w;
        var numerator = (used * keptWeights).Sum(0);
        var divisor = MergeTensors.ZeroToOne(keptWeights.Sum(0));
        return (p + numerator / divisor).MoveToOuterScope();
    }
}
