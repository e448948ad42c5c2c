// One training step (forward, backward, AdamW) of a small Llama-style model through src/Torch.
// Prints one JSON line with the per-step times; bench/train-step/run.sh compares it with PyTorch.
using System.Diagnostics;
using System.Globalization;
using FuseChat.Fusion.Models;
using FuseChat.Torch;
using FuseChat.Torch.Optim;

var options = args.Select(a => a.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].TrimStart('-'), p => p[1]);
int Get(string key, int fallback) => options.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
var threads = Get("threads", 1);
var steps = Get("steps", 10);
var warmup = Get("warmup", 3);
var batch = Get("batch", 4);
var length = Get("length", 256);
var layers = Get("layers", 4);
var width = Get("width", 256);
var heads = Get("heads", 4);
var vocab = Get("vocab", 32000);
var intermediate = Get("intermediate", 688);

TorchRuntime.Threads = threads;
TorchRuntime.ManualSeed(0);
var config = new DecoderConfig
{
    VocabSize = vocab, HiddenSize = width, IntermediateSize = intermediate, Layers = layers, Heads = heads, RmsNormEps = 1e-6,
};
using var model = new LlamaModel(config);
using var optimizer = new AdamW(model.Parameters(), new AdamWOptions { LearningRate = 1e-4, WeightDecay = 0.01 });
using var ids = Tensor.RandInt(0, vocab, [batch, length]).DetachFromScope();

var times = new List<double>();
double loss = 0;
for (var step = 0; step < warmup + steps; step++)
{
    var sw = Stopwatch.StartNew();
    using (DisposeScope.Open())
    {
        var l = model.Loss(ids);
        l.Backward();
        optimizer.Step();
        optimizer.ZeroGrad();
        loss = l.ToDouble();
    }
    sw.Stop();
    if (step >= warmup) times.Add(sw.Elapsed.TotalSeconds);
}
times.Sort();
var median = times[times.Count / 2];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"impl\":\"csharp\",\"threads\":{threads},\"median_step_s\":{median:F5},\"tokens_per_s\":{batch * length / median:F1},\"loss\":{loss:F4},\"params\":{model.ParameterCount()}}}"));
