using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// The last step shared by task arithmetic, TIES and DARE (mergekit's generalized task arithmetic):
/// weight the (possibly sparsified) deltas, optionally keep only entries agreeing with the elected sign,
/// optionally normalise by the contributing weights, scale by lambda and add to the pivot.
/// </summary>
internal static class TaskVectorMixing
{
    /// <summary>Mixes and disposes <paramref name="deltas"/>; returns a new float32 tensor.</summary>
    public static Tensor Mix(Tensor pivotF32, List<Tensor> deltas, IReadOnlyList<ModelMergeParameters> perModel,
        bool signConsensus, bool normalize, double lambda)
    {
        using var scope = DisposeScope.Open();
        var weights = perModel.Select(m => m.Weight).ToArray();
        var mixed = pivotF32.ZerosLike();
        if (signConsensus)
        {
            // mergekit's "sum" consensus: the elected sign is that of the summed weighted deltas (>= 0 -> +1);
            // a trimmed (zero) entry has sign 0 and so never counts, which makes the mean disjoint.
            var total = pivotF32.ZerosLike();
            for (var i = 0; i < deltas.Count; i++) total.AddInPlace(deltas[i], weights[i]);
            var majority = total.Ge(0).To(DType.Float32) * 2.0 - 1.0;
            total.Dispose();
            var divisor = pivotF32.ZerosLike();
            for (var i = 0; i < deltas.Count; i++)
            {
                using var weighted = deltas[i] * weights[i];
                deltas[i].Dispose();
                using var sign = weighted.Sign();
                using var agreesBool = sign.Eq(majority);
                using var agrees = agreesBool.To(DType.Float32);
                using var kept = weighted * agrees;
                mixed.AddInPlace(kept);
                divisor.AddInPlace(agrees, weights[i]);
            }
            if (normalize) mixed = mixed / MergeTensors.ZeroToOne(divisor);
        }
        else
        {
            for (var i = 0; i < deltas.Count; i++)
            {
                mixed.AddInPlace(deltas[i], weights[i]);
                deltas[i].Dispose();
            }
            var total = weights.Sum();
            if (normalize && Math.Abs(total) >= 1e-8) mixed = mixed / total;
        }
        if (lambda != 1) mixed = mixed * lambda;
        return (pivotF32 + mixed).MoveToOuterScope();
    }
}
