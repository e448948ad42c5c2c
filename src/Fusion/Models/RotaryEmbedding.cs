using FuseChat.Fusion.Checkpoints;
using FuseChat.Torch;

namespace FuseChat.Fusion.Models;

/// <summary>
/// Cosine and sine tables of rotary position embeddings, computed once (in float64, then cast) for the
/// longest length seen and narrowed per call. Layout follows Hugging Face: [length, head_dim] with the
/// frequencies repeated over the two halves. LongRoPE keeps a second table, used for every call whose last position
/// lies past the original context, as transformers does (keys cached before the switch keep the short rotation);
/// dynamic NTK builds the rows of each pass that reaches past max_position_embeddings with that pass's base.
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private readonly Table shortTable;
    private readonly Table? longTable;
    private readonly long longFactorsPast;
    private readonly int headDim, maxPositions;
    private readonly double theta;
    private readonly RopeScaling? dynamic;
    private Tensor? dynamicCos, dynamicSin;

    /// <summary>
    /// Creates the tables' generator; <paramref name="scaling"/> null is plain RoPE. Dynamic NTK scaling rebases the
    /// rotation of every pass that reaches past <paramref name="maxPositions"/> (the model's max_position_embeddings).
    /// </summary>
    public RotaryEmbedding(int headDim, double theta, RopeScaling? scaling = null, int maxPositions = 0)
    {
        this.headDim = headDim;
        this.theta = theta;
        this.maxPositions = maxPositions;
        if (scaling is { Type: "dynamic" })
        {
            if (maxPositions <= 0) throw new ArgumentException("dynamic rope scaling needs the model's max_position_embeddings", nameof(maxPositions));
            dynamic = scaling;
        }

        var amplitude = scaling?.AttentionScaling ?? 1;
        shortTable = new Table(headDim, RopeScaling.InverseFrequencies(headDim, theta, scaling), amplitude);
        if (RopeScaling.LongInverseFrequencies(headDim, theta, scaling) is { } longFrequencies)
        {
            longTable = new Table(headDim, longFrequencies, amplitude);
            longFactorsPast = scaling!.LongFactorsPast!.Value;
        }
    }

    /// <summary>cos and sin for positions [offset, offset + length), owned by this object.</summary>
    public (Tensor Cos, Tensor Sin) Get(long offset, long length, DType dtype, Device device)
    {
        var end = offset + length;
        if (dynamic is not null && end > maxPositions)
        {
            // As transformers: the pass's last position sets the base, and only this pass's rows are needed (a cached
            // generation step keeps the keys it rotated before). Views are handed out, so that replacing the rows on
            // the next call leaves a caller's tensors valid.
            var frequencies = RopeScaling.InverseFrequencies(headDim, RopeScaling.DynamicBase(theta, dynamic.Factor, headDim, end, maxPositions), null);
            dynamicCos?.Dispose();
            dynamicSin?.Dispose();
            (dynamicCos, dynamicSin) = Table.Rows(headDim, frequencies, 1, offset, length, dtype, device);
            return (dynamicCos.Narrow(0, 0, length), dynamicSin.Narrow(0, 0, length));
        }

        return (longTable is not null && end > longFactorsPast ? longTable : shortTable).Get(offset, length, dtype, device);
    }

    /// <summary>Frees the tables.</summary>
    public void Dispose()
    {
        shortTable.Dispose();
        longTable?.Dispose();
        dynamicCos?.Dispose();
        dynamicSin?.Dispose();
    }

    private sealed class Table(int headDim, double[] inverseFrequencies, double amplitude) : IDisposable
    {
        private Tensor? cos;
        private Tensor? sin;
        private long cached;
        private DType cachedType;
        private Device cachedDevice;

        public (Tensor Cos, Tensor Sin) Get(long offset, long length, DType dtype, Device device)
        {
            var needed = offset + length;
            if (cos is null || sin is null || needed > cached || dtype != cachedType || device != cachedDevice)
                Build(Math.Max(needed, cached), dtype, device);
            return (cos!.Narrow(0, offset, length), sin!.Narrow(0, offset, length));
        }

        public void Dispose()
        {
            cos?.Dispose();
            sin?.Dispose();
            cos = sin = null;
        }

        /// <summary>cos and sin rows for positions [offset, offset + length), in float64 then cast, outside any scope.</summary>
        public static (Tensor Cos, Tensor Sin) Rows(int headDim, double[] inverseFrequencies, double amplitude, long offset, long length, DType dtype, Device device)
        {
            var half = headDim / 2;
            var table = new double[length * headDim];
            for (long p = 0; p < length; p++)
            {
                for (var i = 0; i < half; i++)
                {
                    var angle = (offset + p) * inverseFrequencies[i];
                    table[p * headDim + i] = angle;
                    table[p * headDim + half + i] = angle;
                }
            }
            var cosValues = table.Select(a => Math.Cos(a) * amplitude).ToArray();
            var sinValues = table.Select(a => Math.Sin(a) * amplitude).ToArray();
            using var c = Tensor.From<double>(cosValues, [length, headDim]);
            using var s = Tensor.From<double>(sinValues, [length, headDim]);
            using var cd = c.To(device);
            using var sd = s.To(device);
            return (cd.To(dtype).DetachFromScope(), sd.To(dtype).DetachFromScope());
        }

        private void Build(long length, DType dtype, Device device)
        {
            Dispose();
            (cos, sin) = Rows(headDim, inverseFrequencies, amplitude, 0, length, dtype, device);
            cached = length;
            cachedType = dtype;
            cachedDevice = device;
        }
    }
}
