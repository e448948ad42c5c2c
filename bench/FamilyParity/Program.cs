// The model families on a device against Hugging Face transformers: loads every folder that
// tests/fixtures/parity/make_fixtures.py wrote under --fixtures (a tiny random model per family, saved by transformers,
// with transformers' float32 and bf16 logits for fixed ids, computed on the CPU, and its greedy decoding) onto
// --device in f32 and in bf16, and compares. TransformersParityTests checks the same on the CPU; this is for a GPU,
// where the kernels differ: fused attention, Gemma2's eager soft-capped attention, the key/value cache. In f32 it also
// back-propagates the next-token loss on the device and on the CPU: the gradient norms must agree (the backward
// kernels). Prints one JSON line per family and dtype and a verdict line; exits 1 when a family fails.
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using FuseChat.Bench;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Torch;

var options = new BenchOptions(args);
var fixtures = options.Text("fixtures", "");
var device = options.Device;
if (!Directory.Exists(fixtures))
{
    Console.Error.WriteLine($"error: --fixtures={fixtures} is not a folder (make_fixtures.py OUT writes one)");
    return 2;
}

TorchRuntime.Threads = options.Threads;
var failures = new List<string>();
var families = Directory.GetDirectories(fixtures).Where(d => File.Exists(Path.Combine(d, "logits.safetensors"))).Order(StringComparer.Ordinal).ToList();
foreach (var folder in families)
{
    var family = Path.GetFileName(folder);
    // One family that cannot load (a config this transformers writes differently, say) is that family's failure; the
    // others still run, so one device call reports them all.
    try
    {
        CheckFamily(folder, family);
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        Console.WriteLine($$"""{"family":"{{family}}","device":"{{device}}","error":{{JsonSerializer.Serialize($"{e.GetType().Name}: {e.Message}")}},"ok":false}""");
        failures.Add($"{family} (error)");
    }
}

Console.WriteLine(families.Count == 0 ? "families: none found" : failures.Count == 0
    ? $"families: {families.Count} passed on {device} (f32 and bf16)"
    : $"families: FAILED {string.Join(", ", failures)}");
return families.Count > 0 && failures.Count == 0 ? 0 : 1;

// transformers' logits, greedy decoding and (f32) the loss's gradient norm for one fixture, in f32 and bf16 on the device.
void CheckFamily(string folder, string family)
{
    var rows = JsonSerializer.Deserialize<long[][]>(File.ReadAllText(Path.Combine(folder, "input_ids.json")))!;
    using var reference = SafetensorsFile.Open(Path.Combine(folder, "logits.safetensors"));
    var exact = MemoryMarshal.Cast<byte, float>(reference.GetSpan("logits")).ToArray();
    var (referenceMean, referenceMax) = Errors(MemoryMarshal.Cast<byte, float>(reference.GetSpan("logits_bf16")).ToArray(), exact);
    foreach (var dtype in new[] { DType.Float32, DType.BFloat16 })
    {
        using var scope = DisposeScope.Open();
        var (model, _) = PretrainedModel.Load(folder, dtype, device);
        using (model)
        {
            float[] ours;
            using (NoGradScope.Enter())
            {
                var ids = Tensor.From<long>([.. rows.SelectMany(r => r)], [rows.Length, rows[0].Length]).To(device);
                ours = model.Forward(ids).To(DType.Float32).To(Device.Cpu).ToArray<float>();
            }

            var (mean, max) = Errors(ours, exact);
            // f32 must be transformers' result up to summation order; bf16 must err like transformers' bf16 on the CPU
            // (a GPU rounds in other places, so by a margin).
            var ok = dtype == DType.Float32 ? max <= 1e-4 : mean <= 2 * referenceMean && max <= 3 * referenceMax;
            var greedy = "-";
            var gradientError = double.NaN;
            if (dtype == DType.Float32)
            {
                gradientError = Math.Abs(GradientNorm(model, rows, device) / CpuGradientNorm(folder, rows) - 1);
                ok &= gradientError <= 1e-4;
                using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "greedy.json")));
                var prompt = expected.RootElement.GetProperty("prompt").EnumerateArray().Select(e => e.GetInt32()).ToList();
                var theirs = expected.RootElement.GetProperty("greedy").EnumerateArray().Select(e => e.GetInt32()).ToList();
                var generated = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = theirs.Count, Temperature = 0 });
                greedy = generated.SequenceEqual(theirs) ? "equal" : "differs";
                ok &= greedy == "equal";
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $$"""{"family":"{{family}}","dtype":"{{dtype.ShortName()}}","device":"{{device}}","max_error":{{max:E3}},"mean_error":{{mean:E3}},"transformers_bf16_mean_error":{{referenceMean:E3}},"greedy":"{{greedy}}","gradient_norm_error":{{(double.IsNaN(gradientError) ? "null" : gradientError.ToString("E3", CultureInfo.InvariantCulture))}},"ok":{{(ok ? "true" : "false")}}}"""));
            if (!ok) failures.Add($"{family} {dtype.ShortName()}");
        }
    }
}

// The norm of all parameter gradients of the mean next-token loss over the fixture's ids.
static double GradientNorm(LlamaModel model, long[][] rows, Device device)
{
    using var scope = DisposeScope.Open();
    var ids = Tensor.From<long>([.. rows.SelectMany(r => r)], [rows.Length, rows[0].Length]).To(device);
    LlamaModel.NextTokenLoss(model.Forward(ids), ids).Backward();
    var squares = model.NamedParameters().Sum(p => p.Tensor.Grad is { } g ? Math.Pow(g.To(DType.Float64).Norm().ToDouble(), 2) : 0);
    Tensor.ZeroGrad([.. model.NamedParameters().Select(p => p.Tensor)]);
    return Math.Sqrt(squares);
}

static double CpuGradientNorm(string folder, long[][] rows)
{
    var (model, _) = PretrainedModel.Load(folder);
    using (model) return GradientNorm(model, rows, Device.Cpu);
}

static (double Mean, double Max) Errors(float[] a, float[] b)
{
    if (a.Length != b.Length) throw new InvalidDataException($"{a.Length} logits against {b.Length}");
    double sum = 0, max = 0;
    for (var i = 0; i < a.Length; i++)
    {
        var d = Math.Abs((double)a[i] - b[i]);
        sum += d;
        max = Math.Max(max, d);
    }

    return (sum / a.Length, max);
}
