using System.Globalization;
using FuseChat.Fusion.Models;
using FuseChat.Torch;

namespace FuseChat.Bench;

/// <summary>
/// The --key=value options of the bench programs that have a Python peer (train-step, represent). A later value
/// overrides an earlier one, so that the run scripts can put their defaults first; the device, dtype and thread
/// options mean the same in every program.
/// </summary>
internal sealed class BenchOptions
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

    public BenchOptions(IEnumerable<string> args)
    {
        foreach (var pair in args.Select(a => a.Split('=', 2)).Where(p => p.Length == 2)) values[pair[0].TrimStart('-')] = pair[1];
    }

    /// <summary>A whole-number option.</summary>
    public int Int(string key, int fallback) => values.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>A text option (a path, a name).</summary>
    public string Text(string key, string fallback) => values.GetValueOrDefault(key, fallback);

    /// <summary>--device (cpu, cuda:N; default cpu).</summary>
    public Device Device => Device.Parse(values.GetValueOrDefault("device", "cpu"));

    /// <summary>--dtype (f32, bf16; default f32).</summary>
    public DType DType => DTypeExtensions.Parse(values.GetValueOrDefault("dtype", "f32"));

    /// <summary>
    /// The benched model's shape, the same options and defaults in every program and its Python peer: --vocab (32000),
    /// --width (256), --intermediate (688), --layers (4), --heads (4); RMSNorm epsilon 1e-6. --experts=N (default 0,
    /// dense) makes every MLP a Qwen-MoE-style sparse one of N experts, --experts-per-token (2) of them per token with
    /// renormalised weights, each --expert-intermediate wide (default: --intermediate).
    /// </summary>
    public DecoderConfig Decoder() => new()
    {
        VocabSize = Int("vocab", 32000), HiddenSize = Int("width", 256), IntermediateSize = Int("intermediate", 688),
        Layers = Int("layers", 4), Heads = Int("heads", 4), RmsNormEps = 1e-6,
        Experts = Int("experts", 0), ExpertsPerToken = Int("experts-per-token", 2), ExpertIntermediateSize = Int("expert-intermediate", 0),
        ExpertLayout = ExpertLayout.Qwen,
    };

    /// <summary>--threads (default 1).</summary>
    public int Threads => Int("threads", 1);
}
