using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// TIES: trim each delta to its floor(density * numel) largest magnitudes, elect each position's sign from
/// the sum of the trimmed weighted deltas, and average (disjoint mean, normalize defaults to true) only the
/// weighted deltas that agree with it.
/// </summary>
public sealed class TiesMerge : IMergeMethod
{
    /// <inheritdoc/>
    public string Name => "ties";

    /// <inheritdoc/>
    public Tensor Merge(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global) =>
        MergeTensors.MergeCopies(this, tensorName, pivot, models, perModel, global);

    /// <inheritdoc/>
    public Tensor MergeInPlace(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global)
    {
        MergeTensors.CheckArguments(tensorName, pivot, models, perModel);
        ArgumentNullException.ThrowIfNull(global);
        MergeTensors.CheckWorkingTensors(tensorName, pivot, models);
        for (var i = 0; i < models.Count; i++)
        {
            models[i].AddInPlace(pivot, -1);
            // Trimming zeros the entries below the k-th magnitude in place; no mask or magnitude copy.
            MergeTensors.KeepTopKMagnitudesInPlace(models[i], MergeTensors.FloorFraction(perModel[i].Density, models[i].NumberOfElements));
        }
        return TaskVectorMixing.MixInPlace(pivot, models, perModel, signConsensus: true, global.Normalize ?? true, global.Lambda);
    }
}
