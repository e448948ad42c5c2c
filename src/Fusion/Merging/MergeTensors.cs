using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>Shared steps of the merge methods: argument checks, float32 conversion, shape alignment, masks.</summary>
internal static class MergeTensors
{
    /// <summary>Throws unless there is at least one model and one parameter set per model.</summary>
    public static void CheckArguments(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel)
    {
        ArgumentNullException.ThrowIfNull(tensorName);
        ArgumentNullException.ThrowIfNull(pivot);
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(perModel);
        if (models.Count == 0) throw new ArgumentException($"{tensorName}: no models to merge", nameof(models));
        if (perModel.Count != models.Count)
            throw new ArgumentException($"{tensorName}: {models.Count} models but {perModel.Count} parameter sets", nameof(perModel));
    }

    /// <summary>True for the tensors whose first dimension is the vocabulary.</summary>
    public static bool IsVocabularyTensor(string tensorName) =>
        tensorName.Contains("embed_tokens", StringComparison.Ordinal) || tensorName.Contains("lm_head", StringComparison.Ordinal);

    /// <summary>
    /// The model's tensor as float32 in the pivot's shape. A vocabulary tensor with more rows than the
    /// pivot's (a target that gained tokens) contributes its first rows, the ones the pivot's ids index.
    /// </summary>
    public static Tensor AlignedFloat32(string tensorName, Tensor pivot, Tensor model, int index)
    {
        var pivotShape = pivot.Shape;
        var modelShape = model.Shape;
        if (pivotShape.AsSpan().SequenceEqual(modelShape)) return model.To(DType.Float32);
        var rowsOnly = IsVocabularyTensor(tensorName)
            && pivotShape.Length == modelShape.Length && pivotShape.Length >= 1
            && modelShape[0] > pivotShape[0]
            && pivotShape.AsSpan(1).SequenceEqual(modelShape.AsSpan(1));
        if (!rowsOnly)
            throw new ArgumentException(
                $"{tensorName}: model {index} has shape [{string.Join(", ", modelShape)}] but the pivot has [{string.Join(", ", pivotShape)}]"
                + (IsVocabularyTensor(tensorName) ? " (only extra vocabulary rows can be dropped)" : ""));
        using var rows = model.Narrow(0, 0, pivotShape[0]);
        return rows.To(DType.Float32);
    }

    /// <summary>
    /// delta_i = theta_i - theta_pivot as separate float32 tensors (no stacked copy: on a 7B embedding
    /// every [models, ...] temporary costs gigabytes).
    /// </summary>
    public static List<Tensor> Deltas(string tensorName, Tensor pivotF32, Tensor pivot, IReadOnlyList<Tensor> models)
    {
        var deltas = new List<Tensor>(models.Count);
        for (var i = 0; i < models.Count; i++)
        {
            using var aligned = AlignedFloat32(tensorName, pivot, models[i], i);
            deltas.Add(aligned - pivotF32);
        }
        return deltas;
    }

    /// <summary>Element-wise population variance over the list (two passes, for accuracy on small deltas).</summary>
    public static Tensor PopulationVariance(IReadOnlyList<Tensor> values)
    {
        using var mean = Sum(values);
        mean.MulInPlace(1.0 / values.Count);
        var variance = mean.ZerosLike();
        foreach (var v in values)
        {
            using var centred = v - mean;
            using var square = centred.Square();
            variance.AddInPlace(square);
        }
        return variance.MulInPlace(1.0 / values.Count);
    }

    /// <summary>Element-wise sum of the list.</summary>
    public static Tensor Sum(IReadOnlyList<Tensor> values)
    {
        var sum = values[0].Clone();
        for (var i = 1; i < values.Count; i++) sum.AddInPlace(values[i]);
        return sum;
    }

    /// <summary>mean(x^2) over all elements, as a double.</summary>
    public static double MeanSquare(Tensor x)
    {
        using var square = x.Square();
        using var mean = square.Mean();
        return mean.ToDouble();
    }

    /// <summary>v_i / sum_j v_j, or uniform weights when every v_i is zero.</summary>
    public static double[] NormalisedOrUniform(double[] values)
    {
        var sum = values.Sum();
        // Only an exact zero means "no signal": fine-tuning deltas are tiny (mean squares ~1e-10), so a
        // tolerance like mergekit's 1e-6 would silently turn real weights uniform.
        if (sum == 0) return Enumerable.Repeat(1.0 / values.Length, values.Length).ToArray();
        return values.Select(v => v / sum).ToArray();
    }

    /// <summary>floor(fraction * count) computed in decimal, so 0.29 * 100 gives 29 rather than 28.</summary>
    public static long FloorFraction(double fraction, long count)
    {
        if (fraction <= 0 || count <= 0) return 0;
        if (fraction >= 1) return count;
        return (long)Math.Floor((decimal)fraction * count);
    }

    /// <summary>
    /// A bool mask of the <paramref name="k"/> largest scores. Ties at the threshold go to the lowest flat
    /// indices, so the result does not depend on how a topk kernel orders equal values.
    /// </summary>
    public static Tensor TopKMask(Tensor scores, long k)
    {
        using var scope = DisposeScope.Open();
        var n = scores.NumberOfElements;
        if (k <= 0) return Tensor.Zeros(scores.Shape, DType.Bool, scores.Device).MoveToOuterScope();
        if (k >= n) return Tensor.Ones(scores.Shape, DType.Bool, scores.Device).MoveToOuterScope();
        var flat = scores.Flatten();
        var (values, _) = flat.TopK(k, 0, largest: true, sorted: true);
        var threshold = values.Select(0, k - 1).ToDouble();
        var above = flat.Gt(threshold);
        var taken = above.Sum().ToInt64();
        var atThreshold = flat.Eq(threshold);
        var rank = atThreshold.To(DType.Int64).CumSum(0);
        var firstTies = atThreshold.LogicalAnd(rank.Le(k - taken));
        return above.LogicalOr(firstTies).Reshape(scores.Shape).MoveToOuterScope();
    }

    /// <summary>The divisor with zeros replaced by one (a position nobody contributes to keeps the pivot's value).</summary>
    public static Tensor ZeroToOne(Tensor divisor)
    {
        using var zero = divisor.Eq(0);
        return divisor.MaskedFill(zero, 1);
    }
}
