using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// VaRM, the first FuseChat version's merge: per parameter matrix, v_i = mean((theta_i - theta_pivot)^2),
/// w_i = v_i / sum_j v_j (uniform when every v_i is zero), theta = sum_i w_i theta_i. The pivot sets the
/// deltas but is not itself one of the mixed models.
/// </summary>
public sealed class VarmMerge : IMergeMethod
{
    /// <inheritdoc/>
    public string Name => "varm";

    /// <inheritdoc/>
    public Tensor Merge(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global) =>
        MergeTensors.MergeCopies(this, tensorName, pivot, models, perModel, global);

    /// <inheritdoc/>
    public Tensor MergeInPlace(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global)
    {
        MergeTensors.CheckArguments(tensorName, pivot, models, perModel);
        MergeTensors.CheckWorkingTensors(tensorName, pivot, models);
        using var scope = DisposeScope.Open();
        var p = pivot.Reshape(-1);
        var thetas = MergeTensors.FlatViews(models);
        var variances = new double[thetas.Length];
        for (var i = 0; i < thetas.Length; i++)
        {
            var sum = 0.0;
            foreach (var (start, length) in MergeTensors.Chunks(p.NumberOfElements))
            {
                using var piece = DisposeScope.Open();
                sum += (thetas[i].Narrow(0, start, length) - p.Narrow(0, start, length)).Square().Sum().ToDouble();
            }
            variances[i] = p.NumberOfElements == 0 ? 0 : sum / p.NumberOfElements;
        }
        var weights = MergeTensors.NormalisedOrUniform(variances);
        // The thetas are kept (VaRM mixes them, not deltas), so the pivot's storage takes the result.
        foreach (var (start, length) in MergeTensors.Chunks(p.NumberOfElements))
        {
            using var piece = DisposeScope.Open();
            var target = p.Narrow(0, start, length);
            var merged = target.ZerosLike();
            for (var i = 0; i < thetas.Length; i++) merged.AddInPlace(thetas[i].Narrow(0, start, length), weights[i]);
            target.CopyFrom(merged);
        }
        return pivot;
    }
}
