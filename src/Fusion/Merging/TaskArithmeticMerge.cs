using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// Task arithmetic: theta = theta_pivot + lambda * sum_i w_i delta_i, divided by sum_i w_i only when
/// normalize is set (mergekit's default is not to).
/// </summary>
public sealed class TaskArithmeticMerge : IMergeMethod
{
    /// <inheritdoc/>
    public string Name => "task_arithmetic";

    /// <inheritdoc/>
    public Tensor Merge(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global) =>
        MergeTensors.MergeCopies(this, tensorName, pivot, models, perModel, global);

    /// <inheritdoc/>
    public Tensor MergeInPlace(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global)
    {
        MergeTensors.CheckArguments(tensorName, pivot, models, perModel);
        ArgumentNullException.ThrowIfNull(global);
        MergeTensors.CheckWorkingTensors(tensorName, pivot, models);
        foreach (var model in models) model.AddInPlace(pivot, -1);
        return TaskVectorMixing.MixInPlace(pivot, models, perModel, signConsensus: false, global.Normalize ?? false, global.Lambda);
    }
}
