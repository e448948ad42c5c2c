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
    public Tensor Merge(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global)
    {
        MergeTensors.CheckArguments(tensorName, pivot, models, perModel);
        using var scope = DisposeScope.Open();
        var p = pivot.To(DType.Float32);
        var thetas = new Tensor[models.Count];
        var variances = new double[models.Count];
        for (var i = 0; i < thetas.Length; i++)
        {
            thetas[i] = MergeTensors.AlignedFloat32(tensorName, pivot, models[i], i);
            using var delta = thetas[i] - p;
            variances[i] = MergeTensors.MeanSquare(delta);
        }
        var weights = MergeTensors.NormalisedOrUniform(variances);
        var merged = p.ZerosLike();
        for (var i = 0; i < thetas.Length; i++) merged.AddInPlace(thetas[i], weights[i]);
        return merged.MoveToOuterScope();
    }
}
