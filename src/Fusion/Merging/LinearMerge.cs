using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// Weighted average of the models' tensors: sum_i w_i theta_i, divided by sum_i w_i when normalising
/// (mergekit's default). The pivot only fixes the output shape; to include the base model, list it among the models.
/// </summary>
public sealed class LinearMerge : IMergeMethod
{
    /// <inheritdoc/>
    public string Name => "linear";

    /// <inheritdoc/>
    public Tensor Merge(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global)
    {
        MergeTensors.CheckArguments(tensorName, pivot, models, perModel);
        ArgumentNullException.ThrowIfNull(global);
        using var scope = DisposeScope.Open();
        var weights = perModel.Select(m => m.Weight).ToArray();
        var sum = Tensor.Zeros(pivot.Shape, DType.Float32, pivot.Device);
        for (var i = 0; i < models.Count; i++)
        {
            using var theta = MergeTensors.AlignedFloat32(tensorName, pivot, models[i], i);
            sum.AddInPlace(theta, weights[i]);
        }
        if (global.Normalize ?? true)
        {
            var total = weights.Sum();
            // All-zero weights would divide by zero; the sum is then zero and stays so.
            if (total != 0) sum.MulInPlace(1 / total);
        }
        return sum.MoveToOuterScope();
    }

    /// <inheritdoc/>
    public Tensor MergeInPlace(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global)
    {
        MergeTensors.CheckArguments(tensorName, pivot, models, perModel);
        ArgumentNullException.ThrowIfNull(global);
        MergeTensors.CheckWorkingTensors(tensorName, pivot, models);
        // The pivot only lends its storage to the sum (zeroed first, as Merge starts from zeros).
        pivot.ZeroInPlace();
        var weights = perModel.Select(m => m.Weight).ToArray();
        for (var i = 0; i < models.Count; i++) pivot.AddInPlace(models[i], weights[i]);
        if (global.Normalize ?? true)
        {
            var total = weights.Sum();
            if (total != 0) pivot.MulInPlace(1 / total);
        }
        return pivot;
    }
}
