using FuseChat.Fusion.Checkpoints;
using FuseChat.Torch;

namespace FuseChat.Fusion.Models;

/// <summary>
/// Cosine and sine tables of rotary position embeddings, computed once (in float64, then cast) for the
/// longest length seen and narrowed per call. Layout follows Hugging Face: [length, head_dim] with the
/// frequencies repeated over the two halves. LongRoPE keeps a second table, used for every call whose last position
/// lies past the original context, as transformers does (keys cached before the switch keep the short rotation).
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private readonly Table shortTable;
    private readonly Table? longTable;
    private readonly long longFactorsPast;

    /// <summary>Creates the tables' generator; <paramref name="scaling"/> null is plain RoPE.</summary>
    public RotaryEmbedding(int headDim, double theta, RopeScaling? scaling = null)
    {
        var amplitude = scaling?.AttentionScaling ?? 1;
        shortTable = new Table(headDim, RopeScaling.InverseFrequencies(headDim, theta, scaling), amplitude);
        if (RopeScaling.LongInverseFrequencies(headDim, theta, scaling) is { } longFrequencies)
        {
            longTable = new Table(headDim, longFrequencies, amplitude);
            longFactorsPast = scaling!.LongFactorsPast!.Value;
        }
    }

    /// <summary>cos and sin for positions [offset, offset + length), owned by this object.</summary>
    public (Tensor Cos, Tensor Sin) Get(long offset, long length, DType dtype, Device device) =>
        (longTable is not null && offset + length > longFactorsPast ? longTable : shortTable).Get(offset, length, dtype, device);

    /// <summary>Frees the tables.</summary>
    public void Dispose()
    {
        shortTable.Dispose();
        longTable?.Dispose();
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

        private void Build(long length, DType dtype, Device device)
        {
            Dispose();
            var half = headDim / 2;
            var table = new double[length * headDim];
            for (long p = 0; p < length; p++)
            {
                for (var i = 0; i < half; i++)
                {
                    var angle = p * inverseFrequencies[i];
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
            cos = cd.To(dtype).DetachFromScope();
            sin = sd.To(dtype).DetachFromScope();
            cached = length;
            cachedType = dtype;
            cachedDevice = device;
        }
    }
}
