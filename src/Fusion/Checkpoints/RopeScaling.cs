namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// The rope_scaling entry of config.json (rope_parameters in transformers 5). Supported: "linear" (positions divided
/// by <see cref="Factor"/>), "llama3" (Llama 3.1 and later: long wavelengths divided by the factor, short ones kept,
/// a smooth blend between, set by the low and high frequency factors and the original context length) and "longrope"
/// (Phi-3.5, Phi-3 128k, Phi-4-mini: each frequency divided by its own short factor, or long factor once a forward
/// pass reaches past the original context length, and cos and sin scaled by <see cref="AttentionScaling"/>). Other
/// types are rejected when the config is parsed.
/// </summary>
/// <param name="Type">The scaling type: "linear", "llama3" or "longrope".</param>
/// <param name="Factor">Scaling factor, greater than zero.</param>
public sealed record RopeScaling(string Type, double Factor)
{
    /// <summary>llama3: wavelengths above original / low_freq_factor are fully scaled.</summary>
    public double? LowFreqFactor { get; init; }

    /// <summary>llama3: wavelengths below original / high_freq_factor are kept.</summary>
    public double? HighFreqFactor { get; init; }

    /// <summary>llama3 and longrope: the context length the model was trained with before scaling.</summary>
    public int? OriginalMaxPositionEmbeddings { get; init; }

    /// <summary>longrope: the divisor of each rotary frequency while a pass stays within the original context.</summary>
    public IReadOnlyList<double>? ShortFactor { get; init; }

    /// <summary>longrope: the divisor of each rotary frequency once a pass reaches past the original context.</summary>
    public IReadOnlyList<double>? LongFactor { get; init; }

    /// <summary>longrope: the attention_factor config.json gives; null when it is derived from <see cref="Factor"/>.</summary>
    public double? AttentionFactor { get; init; }

    /// <summary>
    /// longrope: true when config.json gave no factor and <see cref="Factor"/> is max_position_embeddings over the
    /// original context (what transformers derives), so that the config is written back without one.
    /// </summary>
    public bool FactorDerived { get; init; }

    /// <summary>
    /// What cos and sin are multiplied by: longrope's attention_factor, or sqrt(1 + ln(factor) / ln(original)) when
    /// none is given (1 for a factor of at most 1); 1 for every other type.
    /// </summary>
    public double AttentionScaling => Type != "longrope" ? 1
        : AttentionFactor ?? (Factor <= 1 ? 1 : Math.Sqrt(1 + Math.Log(Factor) / Math.Log(OriginalMaxPositionEmbeddings!.Value)));

    /// <summary>
    /// longrope: the inverse frequencies for passes that reach past the original context (transformers switches
    /// tables when a pass's largest position + 1 exceeds it); null for other types.
    /// </summary>
    public static double[]? LongInverseFrequencies(int headDim, double theta, RopeScaling? scaling) =>
        scaling is { Type: "longrope", LongFactor: { } factors } ? Divided(headDim, theta, factors) : null;

    /// <summary>
    /// The rotary inverse frequencies 1 / theta^(2i / headDim), i &lt; headDim / 2, scaled as
    /// <paramref name="scaling"/> says (transformers' _compute_linear_scaling_rope_parameters and
    /// _compute_llama3_parameters), in float64.
    /// </summary>
    public static double[] InverseFrequencies(int headDim, double theta, RopeScaling? scaling)
    {
        if (scaling is { Type: "longrope", ShortFactor: { } shortFactor }) return Divided(headDim, theta, shortFactor);
        var frequencies = new double[headDim / 2];
        for (var i = 0; i < frequencies.Length; i++)
        {
            var f = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
            frequencies[i] = scaling?.Type switch
            {
                null => f,
                "linear" => f / scaling.Factor,
                "llama3" => scaling.Llama3(f),
                _ => throw new NotSupportedException($"rope scaling type '{scaling.Type}' is not supported"),
            };
        }

        return frequencies;
    }

    /// <inheritdoc />
    public bool Equals(RopeScaling? other) =>
        other is not null && Type == other.Type && Factor == other.Factor && LowFreqFactor == other.LowFreqFactor
        && HighFreqFactor == other.HighFreqFactor && OriginalMaxPositionEmbeddings == other.OriginalMaxPositionEmbeddings
        && AttentionFactor == other.AttentionFactor && FactorDerived == other.FactorDerived
        && SameFactors(ShortFactor, other.ShortFactor) && SameFactors(LongFactor, other.LongFactor);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Type, Factor, OriginalMaxPositionEmbeddings, ShortFactor?.Count, LongFactor?.Count);

    private static bool SameFactors(IReadOnlyList<double>? a, IReadOnlyList<double>? b) =>
        a is null ? b is null : b is not null && a.SequenceEqual(b);

    /// <summary>1 / (factor_i * theta^(2i / headDim)), transformers' _compute_longrope_parameters.</summary>
    private static double[] Divided(int headDim, double theta, IReadOnlyList<double> factors)
    {
        if (factors.Count != headDim / 2)
            throw new ArgumentException($"longrope needs {headDim / 2} factors for a rotary width of {headDim}, got {factors.Count}", nameof(factors));
        var frequencies = new double[headDim / 2];
        for (var i = 0; i < frequencies.Length; i++) frequencies[i] = 1.0 / (factors[i] * Math.Pow(theta, 2.0 * i / headDim));
        return frequencies;
    }

    private double Llama3(double frequency)
    {
        var original = (double)OriginalMaxPositionEmbeddings!.Value;
        var low = LowFreqFactor!.Value;
        var high = HighFreqFactor!.Value;
        var wavelength = 2 * Math.PI / frequency;
        if (wavelength < original / high) return frequency;
        if (wavelength > original / low) return frequency / Factor;
        var smooth = (original / wavelength - low) / (high - low);
        return (1 - smooth) * frequency / Factor + smooth * frequency;
    }
}
