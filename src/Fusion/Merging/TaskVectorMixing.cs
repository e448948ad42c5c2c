using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// The last step shared by task arithmetic, TIES and DARE (mergekit's generalized task arithmetic):
/// weight the (possibly sparsified) deltas, optionally keep only entries agreeing with the elected sign,
/// optionally normalise by the contributing weights, scale by lambda and add to the pivot.
/// </summary>
internal static class TaskVectorMixing
{
    /// <summary>
    /// Mixes the float32 <paramref name="deltas"/> (left as they are) into <paramref name="pivot"/>, in place,
    /// piece by piece, so no temporary is larger than <see cref="MergeTensors.ChunkElements"/>; returns the pivot.
    /// </summary>
    public static Tensor MixInPlace(Tensor pivot, IReadOnlyList<Tensor> deltas, IReadOnlyList<ModelMergeParameters> perModel,
        bool signConsensus, bool normalize, double lambda)
    {
        using var scope = DisposeScope.Open();
        var weights = perModel.Select(m => m.Weight).ToArray();
        var totalWeight = weights.Sum();
        var p = pivot.Reshape(-1);
        var flats = MergeTensors.FlatViews(deltas);
        foreach (var (start, length) in MergeTensors.Chunks(p.NumberOfElements))
        {
            using var piece = DisposeScope.Open();
            var d = MergeTensors.Pieces(flats, start, length);
            var target = p.Narrow(0, start, length);
            var mixed = target.ZerosLike();
            if (signConsensus)
            {
                // mergekit's "sum" consensus: the elected sign is that of the summed weighted deltas (>= 0 -> +1);
                // a trimmed (zero) entry has sign 0 and so never counts, which makes the mean disjoint.
                var total = target.ZerosLike();
                for (var i = 0; i < d.Length; i++) total.AddInPlace(d[i], weights[i]);
                var majority = total.Ge(0).To(DType.Float32) * 2.0 - 1.0;
                var divisor = target.ZerosLike();
                for (var i = 0; i < d.Length; i++)
                {
                    var weighted = d[i] * weights[i];
                    var agrees = weighted.Sign().Eq(majority).To(DType.Float32);
                    mixed.AddInPlace(weighted * agrees);
                    divisor.AddInPlace(agrees, weights[i]);
                }
                if (normalize) mixed = mixed / MergeTensors.ZeroToOne(divisor);
            }
            else
            {
                for (var i = 0; i < d.Length; i++) mixed.AddInPlace(d[i], weights[i]);
                if (normalize && Math.Abs(totalWeight) >= 1e-8) mixed = mixed / totalWeight;
            }
            if (lambda != 1) mixed = mixed * lambda;
            target.CopyFrom(target + mixed);
        }
        return pivot;
    }
}
