// bench/run fusion-loss: the fusion loss with a K-sparse target (gather over the K ids, as FusionLoss does)
// vs the public code's dense [batch, length, vocabulary] target tensor, forward and backward, one mode per
// process so that each peak resident memory (VmHWM) is its own. Prints one JSON line.
// Modes head-whole and head-chunked start one step earlier, from the last layer's output [batch, length, hidden] and
// the output matrix [vocab, hidden]: the whole logits and then the loss, or FusionLoss.BackwardInChunks as the trainer
// runs it (the head over chunks of positions, LlamaModel.HeadChunk of them).
using System.Diagnostics;
using System.Globalization;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Training;
using FuseChat.Torch;

var mode = args.Length > 0 ? args[0] : "sparse";
int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
var batch = Arg(1, 2);
var length = Arg(2, 1024);
var vocab = Arg(3, 32000);
var hiddenSize = Arg(4, 1024);
const int K = 10;
TorchRuntime.Threads = 1;
TorchRuntime.ManualSeed(0);

using var scope = DisposeScope.Open();
var head = mode.StartsWith("head-", StringComparison.Ordinal);
var logits = head ? null : Tensor.Randn([batch, length, vocab]).RequiresGradient();
var hidden = head ? Tensor.Randn([batch, length, hiddenSize]).RequiresGradient() : null;
var weight = head ? (Tensor.Randn([vocab, hiddenSize]) * 0.02).RequiresGradient() : null;
var labels = Tensor.RandInt(0, vocab, [batch, length]);
var targetIds = Tensor.RandInt(0, vocab, [batch, length, K]);
var targetLogits = Tensor.Randn([batch, length, K]);
var baseline = ResidentKb("VmRSS:");
var stopwatch = Stopwatch.StartNew();
double value;
if (mode == "head-whole")
{
    var result = new FusionLoss().Compute(Functional.Linear(hidden!, weight!), labels, targetIds, targetLogits);
    result.Total.Backward();
    value = result.Total.ToDouble();
}
else if (mode == "head-chunked")
{
    var chunk = LlamaModel.HeadChunk(vocab);
    value = new FusionLoss().BackwardInChunks(h => Functional.Linear(h, weight!), hidden!, labels, targetIds, targetLogits, chunk).Total.ToDouble();
}
else if (mode == "sparse")
{
    var result = new FusionLoss().Compute(logits!, labels, targetIds, targetLogits);
    result.Total.Backward();
    value = result.Total.ToDouble();
}
else
{
    // The public code's way: scatter the K probabilities into a dense [B, L, V] target, then a full dot product.
    var ce = Functional.CrossEntropy(logits!.Reshape(-1, vocab), labels.Reshape(-1));
    var dense = Tensor.Zeros([batch, length, vocab]).Scatter(2, targetIds, Functional.Softmax(targetLogits, -1));
    var fusion = -(dense * Functional.LogSoftmax(logits, -1)).Sum(-1).Mean();
    var total = ce * 0.9 + fusion * 0.1;
    total.Backward();
    value = total.ToDouble();
}
stopwatch.Stop();
var peak = ResidentKb("VmHWM:");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"mode\":\"{mode}\",\"seconds\":{stopwatch.Elapsed.TotalSeconds:F3},\"peak_extra_mb\":{(peak - baseline) / 1024.0:F1},\"loss\":{value:F5},\"shape\":\"{batch}x{length}x{vocab}\"}}"));

static long ResidentKb(string field) => long.Parse(
    File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
    CultureInfo.InvariantCulture);
