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
    /// The result may share storage with <paramref name="model"/> (a float32 model of the pivot's shape is
    /// returned as an alias): use <see cref="OwnedFloat32"/> when the copy is to be written to.
    /// </summary>
    public static Tensor AlignedFloat32(string tensorName, Tensor pivot, Tensor model, int index) =>
        AlignedFloat32(tensorName, pivot.Shape, model, index);

    /// <inheritdoc cref="AlignedFloat32(string, Tensor, Tensor, int)"/>
    public static Tensor AlignedFloat32(string tensorName, long[] pivotShape, Tensor model, int index)
    {
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
    /// A float32 copy of <paramref name="tensor"/> that shares no storage with it (To alone aliases a
    /// tensor that already is float32), so the in-place merges can overwrite it.
    /// </summary>
    public static Tensor OwnedFloat32(Tensor tensor) =>
        tensor.DType == DType.Float32 ? tensor.Clone() : tensor.To(DType.Float32);

    /// <summary>
    /// The non-destructive form of <see cref="IMergeMethod.MergeInPlace"/>: float32 copies of the inputs
    /// (aligned to the pivot's shape) are handed to it, so the caller's tensors stay untouched.
    /// </summary>
    public static Tensor MergeCopies(IMergeMethod method, string tensorName, Tensor pivot, IReadOnlyList<Tensor> models,
        IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global)
    {
        CheckArguments(tensorName, pivot, models, perModel);
        ArgumentNullException.ThrowIfNull(global);
        using var scope = DisposeScope.Open();
        var p = OwnedFloat32(pivot).Contiguous();
        var owned = new List<Tensor>(models.Count);
        for (var i = 0; i < models.Count; i++)
        {
            using var aligned = AlignedFloat32(tensorName, pivot, models[i], i);
            owned.Add(OwnedFloat32(aligned).Contiguous());
        }
        var merged = method.MergeInPlace(tensorName, p, owned, perModel, global);
        return merged.MoveToOuterScope();
    }

    /// <summary>Throws unless every working tensor is float32, contiguous and shaped like the pivot.</summary>
    public static void CheckWorkingTensors(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models)
    {
        var shape = pivot.Shape;
        foreach (var t in models.Prepend(pivot))
        {
            if (t.DType != DType.Float32 || !t.IsContiguous || !t.Shape.AsSpan().SequenceEqual(shape))
                throw new ArgumentException($"{tensorName}: in-place merges take contiguous float32 tensors of the pivot's shape "
                    + $"[{string.Join(", ", shape)}], got {t.DType.ShortName()} [{string.Join(", ", t.Shape)}]");
        }
    }

    /// <summary>
    /// Elements per piece of the element-wise passes: every temporary of a pass is this small (1 MiB as
    /// float32) instead of tensor-sized, and a piece of each model stays in cache across the pass's ops.
    /// </summary>
    public const long ChunkElements = 1 << 18;

    /// <summary>The (start, length) pieces of a flat tensor of <paramref name="count"/> elements.</summary>
    public static IEnumerable<(long Start, long Length)> Chunks(long count, long chunk = ChunkElements)
    {
        for (long start = 0; start < count; start += chunk) yield return (start, Math.Min(chunk, count - start));
    }

    /// <summary>One-dimensional views of contiguous tensors (writes through them land in the tensors).</summary>
    public static Tensor[] FlatViews(IReadOnlyList<Tensor> tensors)
    {
        var views = new Tensor[tensors.Count];
        for (var i = 0; i < views.Length; i++) views[i] = tensors[i].Reshape(-1);
        return views;
    }

    /// <summary>The pieces [start, start + length) of the given flat views, created in the current scope.</summary>
    public static Tensor[] Pieces(Tensor[] flats, long start, long length)
    {
        var pieces = new Tensor[flats.Length];
        for (var i = 0; i < pieces.Length; i++) pieces[i] = flats[i].Narrow(0, start, length);
        return pieces;
    }

    /// <summary>
    /// Sum over all elements of x^2, accumulated piece by piece in double: mean squares without a
    /// tensor-sized square (and, for <paramref name="mask"/>, without a tensor-sized masked copy).
    /// </summary>
    public static double SumOfSquares(Tensor x, Tensor? mask = null)
    {
        using var scope = DisposeScope.Open();
        var flat = x.Reshape(-1);
        var maskFlat = mask?.Reshape(-1);
        var sum = 0.0;
        foreach (var (start, length) in Chunks(flat.NumberOfElements))
        {
            using var piece = DisposeScope.Open();
            var values = flat.Narrow(0, start, length);
            if (maskFlat is not null) values = values * maskFlat.Narrow(0, start, length);
            sum += values.Square().Sum().ToDouble();
        }
        return sum;
    }

    /// <summary>SumOfSquares / numel: mean(x^2) (0 for an empty tensor).</summary>
    public static double MeanSquareChunked(Tensor x, Tensor? mask = null)
    {
        var n = x.NumberOfElements;
        return n == 0 ? 0 : SumOfSquares(x, mask) / n;
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
    /// Overwrites <paramref name="scores"/> (float32, contiguous) with a 1/0 mask of its <paramref name="k"/>
    /// largest values. Ties at the threshold go to the lowest flat indices, so the result does not depend on
    /// how a sort orders equal values.
    /// </summary>
    public static void TopKMaskInPlace(Tensor scores, long k) => SelectTopK(scores, k, TopKMode.Mask);

    /// <summary>
    /// Zeros every entry of <paramref name="values"/> (float32, contiguous) except the <paramref name="k"/>
    /// largest magnitudes (ties to the lowest flat indices), in place.
    /// </summary>
    public static void KeepTopKMagnitudesInPlace(Tensor values, long k) => SelectTopK(values, k, TopKMode.TrimByMagnitude);

    private enum TopKMode { Mask, TrimByMagnitude }

    // Piece length for the span passes (spans are int-indexed; tensors can exceed 2^31 elements).
    private const long SpanPiece = 1L << 26;

    /// <summary>
    /// Top-k by threshold: a two-level radix select over the floats' order-preserving 32-bit keys finds the
    /// k-th largest key in two counting passes, and a third pass applies it. No sort, no index tensor and no
    /// copy of the scores: topk over a whole tensor needs a (value, index) pair per element in libtorch.
    /// </summary>
    private static void SelectTopK(Tensor values, long k, TopKMode mode)
    {
        if (values.DType != DType.Float32 || !values.IsContiguous)
            throw new ArgumentException("top-k selection works on contiguous float32 tensors", nameof(values));
        if (values.Device.Type != DeviceType.Cpu)
        {
            // The passes read memory directly; an accelerator tensor takes a round trip through the host.
            using var host = values.To(Device.Cpu);
            SelectTopK(host, k, mode);
            values.CopyFrom(host);
            return;
        }
        using var scope = DisposeScope.Open();
        var flat = values.Reshape(-1);
        var n = flat.NumberOfElements;
        var magnitude = mode == TopKMode.TrimByMagnitude;
        if (k >= n)
        {
            if (mode == TopKMode.Mask) values.FillInPlace(1);
            return;
        }
        if (k <= 0)
        {
            values.ZeroInPlace();
            return;
        }

        var high = new long[1 << 16];
        ForEachSpan(flat, span =>
        {
            foreach (var v in span) high[Key(v, magnitude) >> 16]++;
        });
        var (highBin, above) = FindBin(high, k, 0);
        var low = new long[1 << 16];
        ForEachSpan(flat, span =>
        {
            foreach (var v in span)
            {
                var key = Key(v, magnitude);
                if (key >> 16 == highBin) low[key & 0xFFFF]++;
            }
        });
        var (lowBin, strictlyAbove) = FindBin(low, k, above);
        var threshold = (highBin << 16) | lowBin;
        var ties = k - strictlyAbove;
        ForEachSpan(flat, span =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var key = Key(span[i], magnitude);
                var keep = key > threshold || (key == threshold && ties-- > 0);
                if (mode == TopKMode.Mask) span[i] = keep ? 1f : 0f;
                else if (!keep) span[i] = 0f;
            }
        });
    }

    /// <summary>The highest bin at which the count from the top reaches k, and the count strictly above it.</summary>
    private static (uint Bin, long Above) FindBin(long[] histogram, long k, long above)
    {
        for (var b = histogram.Length - 1; b >= 0; b--)
        {
            if (above + histogram[b] >= k) return ((uint)b, above);
            above += histogram[b];
        }
        throw new InvalidOperationException("top-k: fewer elements than k");
    }

    /// <summary>
    /// A key whose unsigned order is the floats' order (of |v| for magnitudes); NaN sorts above infinity,
    /// as in torch.topk.
    /// </summary>
    private static uint Key(float v, bool magnitude)
    {
        var bits = BitConverter.SingleToUInt32Bits(v);
        if (magnitude) return bits & 0x7FFF_FFFF;
        return (bits & 0x8000_0000) != 0 ? ~bits : bits | 0x8000_0000;
    }

    private delegate void SpanAction(Span<float> span);

    private static void ForEachSpan(Tensor flat, SpanAction action)
    {
        foreach (var (start, length) in Chunks(flat.NumberOfElements, SpanPiece))
        {
            using var piece = flat.Narrow(0, start, length);
            action(piece.AsSpan<float>());
        }
    }

    /// <summary>The divisor with zeros replaced by one (a position nobody contributes to keeps the pivot's value).</summary>
    public static Tensor ZeroToOne(Tensor divisor)
    {
        using var zero = divisor.Eq(0);
        return divisor.MaskedFill(zero, 1);
    }
}
