namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// The rope_scaling entry of config.json (rope_parameters in transformers 5). Supported: "linear" (positions divided
/// by <see cref="Factor"/>) and "llama3" (Llama 3.1 and later: long wavelengths divided by the factor, short ones kept,
/// a smooth blend between, set by the low and high frequency factors and the original context length). Other types
/// are rejected when the config is parsed.
/// </summary>
/// <param name="Type">The scaling type: "linear" or "llama3".</param>
/// <param name="Factor">Scaling factor, greater than zero.</param>
public sealed record RopeScaling(string Type, double Factor)
{
    /// <summary>llama3: wavelengths above original / low_freq_factor are fully scaled.</summary>
    public double? LowFreqFactor { get; init; }

    /// <summary>llama3: wavelengths below original / high_freq_factor are kept.</summary>
    public double? HighFreqFactor { get; init; }

    /// <summary>llama3: the context length the model was trained with before scaling.</summary>
    public int? OriginalMaxPositionEmbeddings { get; init; }

    /// <summary>
    /// The rotary inverse frequencies 1 / theta^(2i / headDim), i &lt; headDim / 2, scaled as
    /// <paramref name="scaling"/> says (transformers' _compute_linear_scaling_rope_parameters and
    /// _compute_llama3_parameters), in float64.
    /// </summary>
    public static double[] InverseFrequencies(int headDim, double theta, RopeScaling? scaling)
    {
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
