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
    public Tensor Merge(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global)
    {
        MergeTensors.CheckArguments(tensorName, pivot, models, perModel);
        ArgumentNullException.ThrowIfNull(global);
        using var scope = DisposeScope.Open();
        var p = pivot.To(DType.Float32);
        var deltas = MergeTensors.StackedDeltas(tensorName, p, pivot, models);
        var trimmed = new Tensor[models.Count];
        for (var i = 0; i < trimmed.Length; i++)
        {
            var delta = deltas.Select(0, i);
            var k = MergeTensors.FloorFraction(perModel[i].Density, delta.NumberOfElements);
            var keep = MergeTensors.TopKMask(delta.Abs(), k).To(DType.Float32);
            trimmed[i] = delta * keep;
        }
        var stacked = Tensor.Stack(trimmed, 0);
        return TaskVectorMixing.Mix(p, stacked, perModel, signConsensus: true, global.Normalize ?? true, global.Lambda).MoveToOuterScope();
    }
}
