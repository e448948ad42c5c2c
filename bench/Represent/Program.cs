// Stage 1's work (RepresentationComputer: length-sorted batches under a token budget, a forward pass, and on the
// trained positions the top-K logits and the cross entropy) over a synthetic corpus, timed. Prints one JSON line;
// bench/represent/run.sh compares it with its PyTorch peer, which builds the same batches from the same corpus.
// The corpus is a pure function of its options (bench/represent/represent.py spells the same formula): conversation
// i has min + (i * 7919) % (max - min + 1) tokens, token t of it is (31 i + 17 t) % vocab, and its second half is
// trained (the assistant's reply).
using System.Diagnostics;
using System.Globalization;
using FuseChat.Bench;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Representations;
using FuseChat.Torch;

var options = new BenchOptions(args);
int Get(string key, int fallback) => options.Int(key, fallback);
var threads = options.Threads;
var conversations = Get("conversations", 64);
var minLength = Get("min-length", 32);
var maxLength = Get("max-length", 512);
var batchTokens = Get("batch-tokens", 4096);
var topK = Get("top-k", 10);
var repeats = Get("repeats", 3);
var config = options.Decoder() with { MaxPositions = maxLength };
var device = options.Device;
var dtype = options.DType;

TorchRuntime.Threads = threads;
TorchRuntime.ManualSeed(0);
using var model = new LlamaModel(config, dtype, device);
model.Train(false);
var inputs = Enumerable.Range(0, conversations).Select(i =>
{
    var length = minLength + (int)((long)i * 7919 % (maxLength - minLength + 1));
    var ids = Enumerable.Range(0, length).Select(t => (int)((31L * i + 17L * t) % config.VocabSize)).ToArray();
    var trained = Enumerable.Range(0, length).Select(t => t >= length / 2).ToArray();
    return new RepresentationInput(i, $"c{i}", ids, trained);
}).ToList();
var computer = new RepresentationComputer(model, topK, batchTokens);

computer.Compute(inputs.Take(4).ToList()); // warm-up: kernels, allocator
if (device.Type != DeviceType.Cpu) TorchRuntime.DeviceMemory(device.Index, resetPeak: true);
var times = new List<double>();
RepresentationBatchResult? result = null;
for (var r = 0; r < repeats; r++)
{
    var stopwatch = Stopwatch.StartNew();
    result = computer.Compute(inputs);
    times.Add(stopwatch.Elapsed.TotalSeconds);
}
times.Sort();
var median = times[times.Count / 2];
var meanCe = result!.Records.Average(c => c.MetricCe);
// The allocator's peak over the timed passes (weights included), as torch.cuda.max_memory_allocated in the peer.
var memory = device.Type != DeviceType.Cpu && TorchRuntime.DeviceMemory(device.Index) is { } gpu ? $",\"peak_gpu_bytes\":{gpu.Peak}" : "";
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"impl\":\"csharp\",\"device\":\"{device}\",\"dtype\":\"{dtype.ShortName()}\",\"threads\":{threads},\"median_s\":{median:F5},\"tokens\":{result.Tokens},\"padded\":{result.PaddedTokens},\"tokens_per_s\":{result.Tokens / median:F1},\"mean_metric_ce\":{meanCe:F4}{memory}}}"));
