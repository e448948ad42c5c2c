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
    public Tensor Merge(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global) =>
        MergeTensors.MergeCopies(this, tensorName, pivot, models, perModel, global);

    /// <inheritdoc/>
    public Tensor MergeInPlace(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global)
    {
        MergeTensors.CheckArguments(tensorName, pivot, models, perModel);
        ArgumentNullException.ThrowIfNull(global);
        MergeTensors.CheckWorkingTensors(tensorName, pivot, models);
        using var scope = DisposeScope.Open();
        // Working set: the pivot (which becomes the result), the n deltas (computed in the models' own
        // storage) and, while selecting, one scratch tensor for the variance that then becomes the mask.
        foreach (var model in models) model.AddInPlace(pivot, -1);
        var n = models.Count;
        var p = pivot.Reshape(-1);
        var deltas = MergeTensors.FlatViews(models);

        Tensor? mask = null;
        if (global.SelectTopK < 1)
        {
            mask = Tensor.Empty([p.NumberOfElements], DType.Float32, p.Device);
            long nonZero = 0;
            foreach (var (start, length) in MergeTensors.Chunks(p.NumberOfElements))
            {
                using var piece = DisposeScope.Open();
                var d = MergeTensors.Pieces(deltas, start, length);
                // Population variance over the models, two passes (for accuracy on small deltas).
                var mean = d[0].Clone();
                for (var i = 1; i < n; i++) mean.AddInPlace(d[i]);
                mean.MulInPlace(1.0 / n);
                var variance = mean.ZerosLike();
                foreach (var di in d)
                {
                    var centred = di - mean;
                    variance.AddInPlace(centred.Square());
                }
                variance.MulInPlace(1.0 / n);
                nonZero += variance.Ne(0).Sum().ToInt64();
                mask.Narrow(0, start, length).CopyFrom(variance);
            }
            var k = MergeTensors.FloorFraction(global.SelectTopK, nonZero);
            MergeTensors.TopKMaskInPlace(mask, k);
        }

        var meanSquares = new double[n];
        for (var i = 0; i < n; i++)
        {
            meanSquares[i] = MergeTensors.MeanSquareChunked(deltas[i], mask);
            if (mask is not null && Variant == SceVariant.Upstream)
            {
                foreach (var (start, length) in MergeTensors.Chunks(p.NumberOfElements))
                {
                    using var piece = DisposeScope.Open();
                    var d = deltas[i].Narrow(0, start, length);
                    d.CopyFrom(d * mask.Narrow(0, start, length));
                }
            }
        }
        // The mask has done its work (weights, and the upstream variant's masked deltas): free it before Erase.
        mask?.Dispose();
        var weights = MergeTensors.NormalisedOrUniform(meanSquares);

        foreach (var (start, length) in MergeTensors.Chunks(p.NumberOfElements))
        {
            using var piece = DisposeScope.Open();
            var d = MergeTensors.Pieces(deltas, start, length);
            var total = d[0].Clone();
            for (var i = 1; i < n; i++) total.AddInPlace(d[i]);
            var majority = total.Ge(0).To(DType.Float32) * 2.0 - 1.0;
            var numerator = majority.ZerosLike();
            var divisor = majority.ZerosLike();
            for (var i = 0; i < n; i++)
            {
                var erase = d[i].Sign().Eq(majority).To(DType.Float32);
                numerator.AddInPlace(d[i] * erase, weights[i]);
                divisor.AddInPlace(erase, weights[i]);
            }
            var target = p.Narrow(0, start, length);
            target.CopyFrom(target + numerator / MergeTensors.ZeroToOne(divisor));
        }
        return pivot;
    }
}
