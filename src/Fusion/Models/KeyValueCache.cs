using FuseChat.Torch;

namespace FuseChat.Fusion.Models;

/// <summary>
/// Keys and values of every layer for the tokens seen so far, preallocated to a maximum length so that
/// generating one token costs one layer pass over one position instead of recomputing the prefix.
/// </summary>
public sealed class KeyValueCache : IDisposable
{
    private readonly Tensor[] keys;
    private readonly Tensor[] values;

    /// <summary>Allocates [batch, kv heads, maxLength, head dim] per layer.</summary>
    public KeyValueCache(DecoderConfig config, long batch, long maxLength, DType dtype = DType.Float32, Device? device = null)
    {
        if (maxLength < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "cache length must be positive");
        MaxLength = maxLength;
        long[] shape = [batch, config.EffectiveKeyValueHeads, maxLength, config.EffectiveHeadDim];
        keys = Enumerable.Range(0, config.Layers).Select(_ => Tensor.Zeros(shape, dtype, device).DetachFromScope()).ToArray();
        values = Enumerable.Range(0, config.Layers).Select(_ => Tensor.Zeros(shape, dtype, device).DetachFromScope()).ToArray();
    }

    /// <summary>Positions held so far (the next token's position).</summary>
    public long Length { get; private set; }

    /// <summary>Capacity in positions.</summary>
    public long MaxLength { get; }

    /// <summary>Stores a layer's new keys and values at [Length, Length + n) and returns all keys and values so far.</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor newKeys, Tensor newValues)
    {
        var n = newKeys.Size(2);
        if (Length + n > MaxLength)
            throw new InvalidOperationException($"key/value cache full: {Length} + {n} positions exceed its {MaxLength}");
        using (NoGradScope.Enter())
        {
            using var k = keys[layer].Narrow(2, Length, n);
            using var v = values[layer].Narrow(2, Length, n);
            k.CopyFrom(newKeys);
            v.CopyFrom(newValues);
        }
        return (keys[layer].Narrow(2, 0, Length + n), values[layer].Narrow(2, 0, Length + n));
    }

    /// <summary>Moves the end after all layers stored <paramref name="count"/> new positions.</summary>
    internal void Advance(long count) => Length += count;

    /// <summary>Forgets everything (the memory is kept for reuse).</summary>
    public void Reset() => Length = 0;

    /// <summary>Frees the cache.</summary>
    public void Dispose()
    {
        foreach (var t in keys) t.Dispose();
        foreach (var t in values) t.Dispose();
    }
}
