using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// The last step shared by task arithmetic, TIES and DARE (mergekit's generalized task arithmetic):
/// weight the (possibly sparsified) deltas, optionally keep only entries agreeing with the elected sign,
/// optionally normalise by the contributing weights, scale by lambda and add to the pivot.
/// </summary>
internal static class TaskVectorMixing
{
    public static Tensor Mix(Tensor pivotF32, Tensor deltas, IReadOnlyList<ModelMergeParameters> perModel,
        bool signConsensus, bool normalize, double lambda)
    {
        using var scope = DisposeScope.Open();
        var weights = perModel.Select(m => m.Weight).ToArray();
        var w = MergeTensors.WeightColumn(weights, deltas.Dim, deltas.Device);
        var weighted = deltas * w;
        Tensor mixed;
        if (signConsensus)
        {
            // mergekit's "sum" consensus: the elected sign is that of the summed weighted deltas (>= 0 -> +1);
            // a trimmed (zero) entry has sign 0 and so never counts, which makes the mean disjoint.
            var majority = weighted.Sum(0).Ge(0).To(DType.Float32) * 2.0 - 1.0;
            var agree = weighted.Sign().Eq(majority).To(DType.Float32);
            mixed = (weighted * agree).Sum(0);
            if (normalize) mixed = mixed / MergeTensors.ZeroToOne((w * agree).Sum(0));
        }
        else
        {
            mixed = weighted.Sum(0);
            var total = weights.Sum();
            if (normalize && Math.Abs(total) >= 1e-8) mixed = mixed / total;
        }
        if (lambda != 1) mixed = mixed * lambda;
        return (pivotF32 + mixed).MoveToOuterScope();
    }
}
