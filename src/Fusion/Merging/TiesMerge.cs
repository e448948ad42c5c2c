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
        var deltas = MergeTensors.Deltas(tensorName, p, pivot, models);
        for (var i = 0; i < deltas.Count; i++)
        {
            var k = MergeTensors.FloorFraction(perModel[i].Density, deltas[i].NumberOfElements);
            if (k >= deltas[i].NumberOfElements) continue;
            using var magnitude = deltas[i].Abs();
            using var keepBool = MergeTensors.TopKMask(magnitude, k);
            using var keep = keepBool.To(DType.Float32);
            var trimmed = deltas[i] * keep;
            deltas[i].Dispose();
            deltas[i] = trimmed;
        }
        return TaskVectorMixing.Mix(p, deltas, perModel, signConsensus: true, global.Normalize ?? true, global.Lambda).MoveToOuterScope();
    }
}
