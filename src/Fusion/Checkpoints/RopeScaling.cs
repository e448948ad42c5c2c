namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// The rope_scaling entry of config.json (rope_parameters in transformers 5). Supported: "linear" (positions divided
/// by <see cref="Factor"/>), "llama3" (Llama 3.1 and later: long wavelengths divided by the factor, short ones kept,
/// a smooth blend between, set by the low and high frequency factors and the original context length) and "longrope"
/// (Phi-3.5, Phi-3 128k, Phi-4-mini: each frequency divided by its own short factor, or long factor once a forward
/// pass reaches past the original context length, and cos and sin scaled by <see cref="AttentionScaling"/>) and "yarn"
/// (YaRN, as Qwen2.5 and Qwen3 document for long contexts: high frequencies kept, low ones divided by the factor, a
/// linear ramp between set by beta_fast and beta_slow, cos and sin scaled by <see cref="AttentionScaling"/>) and
/// "dynamic" (dynamic NTK, as InternLM2.5 uses: the plain rotation within max_position_embeddings, a larger base for
/// a pass that reaches past it, see <see cref="DynamicBase"/>). Other types are rejected when the config is parsed.
/// </summary>
/// <param name="Type">The scaling type: "linear", "llama3", "longrope", "yarn" or "dynamic".</param>
/// <param name="Factor">Scaling factor, greater than zero.</param>
public sealed record RopeScaling(string Type, double Factor)
{
    /// <summary>llama3: wavelengths above original / low_freq_factor are fully scaled.</summary>
    public double? LowFreqFactor { get; init; }

    /// <summary>llama3: wavelengths below original / high_freq_factor are kept.</summary>
    public double? HighFreqFactor { get; init; }

    /// <summary>llama3, longrope and yarn: the context length the model was trained with before scaling.</summary>
    public int? OriginalMaxPositionEmbeddings { get; init; }

    /// <summary>longrope: the divisor of each rotary frequency while a pass stays within the original context.</summary>
    public IReadOnlyList<double>? ShortFactor { get; init; }

    /// <summary>longrope: the divisor of each rotary frequency once a pass reaches past the original context.</summary>
    public IReadOnlyList<double>? LongFactor { get; init; }

    /// <summary>longrope and yarn: the attention_factor config.json gives; null when it is derived from <see cref="Factor"/>.</summary>
    public double? AttentionFactor { get; init; }

    /// <summary>yarn: rotations per original context above which a frequency is kept (beta_fast, default 32).</summary>
    public double? BetaFast { get; init; }

    /// <summary>yarn: rotations per original context below which a frequency is divided by the factor (beta_slow, default 1).</summary>
    public double? BetaSlow { get; init; }

    /// <summary>yarn: mscale of the derived attention factor (DeepSeek's; with <see cref="MscaleAllDim"/>).</summary>
    public double? Mscale { get; init; }

    /// <summary>yarn: mscale_all_dim of the derived attention factor.</summary>
    public double? MscaleAllDim { get; init; }

    /// <summary>yarn: whether the ramp's ends are rounded outwards to whole dimensions (truncate, default true).</summary>
    public bool? Truncate { get; init; }

    /// <summary>
    /// longrope: true when config.json gave no factor and <see cref="Factor"/> is max_position_embeddings over the
    /// original context (what transformers derives), so that the config is written back without one.
    /// </summary>
    public bool FactorDerived { get; init; }

    /// <summary>
    /// What cos and sin are multiplied by: longrope's attention_factor, or sqrt(1 + ln(factor) / ln(original)) when
    /// none is given (1 for a factor of at most 1); 1 for every other type.
    /// </summary>
    public double AttentionScaling => Type switch
    {
        "longrope" => AttentionFactor ?? (Factor <= 1 ? 1 : Math.Sqrt(1 + Math.Log(Factor) / Math.Log(OriginalMaxPositionEmbeddings!.Value))),
        // transformers: get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim) when both are given (and not 0).
        "yarn" => AttentionFactor ?? (Mscale is { } m and not 0 && MscaleAllDim is { } all and not 0
            ? YarnMscale(Factor, m) / YarnMscale(Factor, all)
            : YarnMscale(Factor, 1)),
        _ => 1,
    };

    /// <summary>
    /// longrope: the inverse frequencies for passes that reach past the original context (transformers switches
    /// tables when a pass's largest position + 1 exceeds it); null for other types.
    /// </summary>
    public static double[]? LongInverseFrequencies(int headDim, double theta, RopeScaling? scaling) =>
        scaling is { Type: "longrope", LongFactor: { } factors } ? Frequencies(headDim, theta, scaling, factors) : null;

    /// <summary>
    /// longrope: the number of positions past which a pass uses the long factors (the original context); null for the
    /// other types, whose rotation does not depend on the pass.
    /// </summary>
    public int? LongFactorsPast => Type == "longrope" ? OriginalMaxPositionEmbeddings : null;

    /// <summary>
    /// dynamic: the rotary base of a pass whose positions reach <paramref name="length"/> past
    /// <paramref name="maxPositions"/> (transformers' _compute_dynamic_ntk_parameters):
    /// theta * (factor * length / maxPositions - (factor - 1))^(d / (d - 2)) for a rotary width d.
    /// </summary>
    public static double DynamicBase(double theta, double factor, int rotaryDim, long length, int maxPositions) =>
        theta * Math.Pow(factor * length / maxPositions - (factor - 1), rotaryDim / (rotaryDim - 2.0));

    /// <summary>
    /// The rotary inverse frequencies 1 / theta^(2i / headDim), i &lt; headDim / 2, scaled as
    /// <paramref name="scaling"/> says (transformers' _compute_linear_scaling_rope_parameters and
    /// _compute_llama3_parameters), in float64.
    /// </summary>
    public static double[] InverseFrequencies(int headDim, double theta, RopeScaling? scaling) =>
        Frequencies(headDim, theta, scaling, scaling?.ShortFactor);

    /// <summary>
    /// 1 / theta^(2i / headDim) for i &lt; headDim / 2, scaled as <paramref name="scaling"/> says; longrope divides
    /// each by its own factor of <paramref name="longropeFactors"/> (the short or the long ones).
    /// </summary>
    private static double[] Frequencies(int headDim, double theta, RopeScaling? scaling, IReadOnlyList<double>? longropeFactors)
    {
        if (scaling is { Type: "longrope" } && longropeFactors?.Count != headDim / 2)
            throw new ArgumentException($"longrope needs {headDim / 2} factors for a rotary width of {headDim}, got {longropeFactors?.Count ?? 0}", nameof(scaling));
        var (low, high) = scaling is { Type: "yarn" } ? scaling.YarnRamp(headDim, theta) : (0, 0);
        var frequencies = new double[headDim / 2];
        for (var i = 0; i < frequencies.Length; i++)
        {
            var power = Math.Pow(theta, 2.0 * i / headDim);
            var f = 1.0 / power;
            frequencies[i] = scaling?.Type switch
            {
                null => f,
                "linear" => f / scaling.Factor,
                "llama3" => scaling.Llama3(f),
                "longrope" => 1.0 / (longropeFactors![i] * power),
                "yarn" => scaling.Yarn(f, Math.Clamp((i - low) / (high - low), 0, 1)),
                // Within max_position_embeddings dynamic NTK is the plain rotation; RotaryEmbedding rebases longer passes.
                "dynamic" => f,
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
        && BetaFast == other.BetaFast && BetaSlow == other.BetaSlow && Mscale == other.Mscale && MscaleAllDim == other.MscaleAllDim
        && Truncate == other.Truncate
        && SameFactors(ShortFactor, other.ShortFactor) && SameFactors(LongFactor, other.LongFactor);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Type, Factor, OriginalMaxPositionEmbeddings, ShortFactor?.Count, LongFactor?.Count);

    private static bool SameFactors(IReadOnlyList<double>? a, IReadOnlyList<double>? b) =>
        a is null ? b is null : b is not null && a.SequenceEqual(b);

    private static double YarnMscale(double scale, double mscale) => scale <= 1 ? 1 : 0.1 * mscale * Math.Log(scale) + 1;

    /// <summary>
    /// YaRN's ramp (transformers' _compute_yarn_parameters): the dimensions between which frequencies go from kept (the
    /// original context turns them more than beta_fast times) to divided by the factor (less than beta_slow times).
    /// </summary>
    private (double Low, double High) YarnRamp(int headDim, double theta)
    {
        var original = (double)OriginalMaxPositionEmbeddings!.Value;
        double CorrectionDim(double rotations) => headDim * Math.Log(original / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
        double low = CorrectionDim(BetaFast ?? 32), high = CorrectionDim(BetaSlow ?? 1);
        if (Truncate ?? true) (low, high) = (Math.Floor(low), Math.Ceiling(high));
        (low, high) = (Math.Max(low, 0), Math.Min(high, headDim - 1));
        return (low, low == high ? high + 0.001 : high);
    }

    /// <summary>YaRN's frequency: ramp 0 keeps <paramref name="frequency"/>, 1 divides it by the factor, between blends.</summary>
    private double Yarn(double frequency, double ramp) => frequency / Factor * ramp + frequency * (1 - ramp);

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
