// One training step (forward, backward, AdamW) of a small Llama-style model through src/Torch.
// Prints one JSON line with the per-step times; bench/train-step/run.sh compares it with PyTorch.
// --device=cuda:0 --dtype=bf16 trains on a GPU in bf16 (fp32 master weights in AdamW); there the weights are
// drawn on the CPU in fp32 and copied over, so that "cpu_loss" (the same first step on the CPU in fp32) checks
// the device's arithmetic: bench/gpu-check runs it on a GPU machine.
using System.Diagnostics;
using System.Globalization;
using FuseChat.Bench;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Training;
using FuseChat.Testing.Support;
using FuseChat.Torch;
using FuseChat.Torch.Optim;

var options = new BenchOptions(args);
int Get(string key, int fallback) => options.Int(key, fallback);
var threads = options.Threads;
var steps = Get("steps", 10);
var warmup = Get("warmup", 3);
var batch = Get("batch", 4);
var length = Get("length", 256);
var device = options.Device;
var dtype = options.DType;
var checkpointing = Get("checkpointing", 0) != 0;
// --offload=1 keeps AdamW's fp32 masters and moments in host memory (training.optimizer_offload).
var offload = Get("offload", 0) != 0;
// --trainer=whole|chunked trains through FusionTrainer instead, with the fusion loss on synthetic top-10 targets: the
// output head over all trained positions at once, or in the trainer's automatic chunks (FusionLoss.BackwardInChunks).
var trainerMode = options.Text("trainer", "");
if (trainerMode is not ("" or "whole" or "chunked"))
{
    Console.Error.WriteLine($"error: --trainer={trainerMode}: whole or chunked");
    return 2;
}

TorchRuntime.Threads = threads;
TorchRuntime.ManualSeed(0);
var config = options.Decoder();
using var reference = new LlamaModel(config);
using var cpuIds = Tensor.RandInt(0, config.VocabSize, [batch, length]).DetachFromScope();
double? cpuLoss = null;
var onCpuInFp32 = device.Type == DeviceType.Cpu && dtype == DType.Float32;
if (!onCpuInFp32)
{
    using var scope = DisposeScope.Open();
    using var noGrad = NoGradScope.Enter();
    cpuLoss = reference.Loss(cpuIds).ToDouble();
}
using var model = onCpuInFp32 ? null : new LlamaModel(config, dtype, device);
var trained = model ?? reference;
if (model is not null)
{
    using var noGrad = NoGradScope.Enter();
    foreach (var (target, source) in model.Parameters().Zip(reference.Parameters())) target.CopyFrom(source);
}
if (trainerMode != "")
    return TrainWithFusionTrainer(trained, cpuIds, trainerMode == "whole", checkpointing, offload, warmup, steps, device, dtype, threads, cpuLoss);
using var optimizer = new AdamW(trained.Parameters(), new AdamWOptions { LearningRate = 1e-4, WeightDecay = 0.01, StateDevice = offload ? Device.Cpu : null });
using var ids = device.Type == DeviceType.Cpu ? null : cpuIds.To(device).DetachFromScope();
var input = ids ?? cpuIds;

var residentBefore = ProcessMemory.Bytes("VmRSS");
if (device.Type != DeviceType.Cpu) TorchRuntime.DeviceMemory(device.Index, resetPeak: true);
var times = new List<double>();
double loss = 0;
double? firstLoss = null;
for (var step = 0; step < warmup + steps; step++)
{
    var sw = Stopwatch.StartNew();
    using (DisposeScope.Open())
    {
        Tensor l;
        if (checkpointing)
        {
            using var pass = trained.ForwardCheckpointed(input);
            l = LlamaModel.NextTokenLoss(pass.Logits, input);
            pass.Backward(l);
        }
        else
        {
            l = trained.Loss(input);
            l.Backward();
        }
        optimizer.Step();
        optimizer.ZeroGrad();
        loss = l.ToDouble(); // reads the value back, so on a GPU the step's kernels have finished
        firstLoss ??= loss;
    }
    sw.Stop();
    if (step >= warmup) times.Add(sw.Elapsed.TotalSeconds);
}
times.Sort();
var median = times[times.Count / 2];
var check = cpuLoss is { } c ? string.Create(CultureInfo.InvariantCulture, $",\"first_loss\":{firstLoss:F5},\"cpu_loss\":{c:F5}") : "";
// Memory the steps took beyond what the process held before them: the accelerator allocator's peak on a GPU
// (parameters, gradients and optimiser state included, as torch.cuda.max_memory_allocated after a reset), and on the
// CPU the resident high-water mark above the resident size before the first step.
var memory = device.Type != DeviceType.Cpu
    ? TorchRuntime.DeviceMemory(device.Index) is { } gpu ? $",\"peak_gpu_bytes\":{gpu.Peak}" : ""
    : $",\"peak_rss_delta_bytes\":{ProcessMemory.Bytes("VmHWM") - residentBefore}";
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"impl\":\"csharp\",\"device\":\"{device}\",\"dtype\":\"{dtype.ShortName()}\",\"threads\":{threads},\"median_step_s\":{median:F5},\"tokens_per_s\":{batch * length / median:F1},\"loss\":{loss:F4}{check},\"checkpointing\":{(checkpointing ? 1 : 0)},\"offload\":{(offload ? 1 : 0)}{memory},\"params\":{trained.ParameterCount()}}}"));
return 0;

// FusionTrainer's steps (one micro-batch each) on the same ids, with next-token labels and 10 random target logits per
// position, as Stage 3 trains; the same JSON line as the plain step, with "trainer" and the median step time.
static int TrainWithFusionTrainer(LlamaModel model, Tensor ids, bool wholeHead, bool checkpointing, bool offload, int warmup,
    int steps, Device device, DType dtype, int threads, double? cpuLoss)
{
    const int K = 10;
    var (batch, length) = (ids.Size(0), ids.Size(1));
    var vocab = model.Config.VocabSize;
    var batches = new List<FusionBatch>();
    using (var scope = DisposeScope.Open())
    {
        var labels = Tensor.Cat([ids.Narrow(1, 1, length - 1), Tensor.Full([batch, 1], FusionLoss.IgnoreIndex, DType.Int64)], 1);
        for (var i = 0; i < warmup + steps; i++)
            batches.Add(new FusionBatch(ids.Clone(), labels.Clone(), Tensor.RandInt(0, vocab, [batch, length, K]), Tensor.Randn([batch, length, K])));
    }
    using var source = new InMemoryFusionBatchSource(batches);
    var times = new List<double>();
    double loss = 0;
    using var trainer = new FusionTrainer(model, source, new FusionTrainerOptions
    {
        LearningRate = 1e-4, Epochs = 1, GradientCheckpointing = checkpointing, WarmupRatio = 0,
        HeadChunkTokens = wholeHead ? int.MaxValue : null,
        OptimizerStateDevice = FusionTrainerOptions.OffloadTarget(offload, device),
    });
    trainer.Log = step => loss = step.Loss;
    if (device.Type != DeviceType.Cpu) TorchRuntime.DeviceMemory(device.Index, resetPeak: true);
    for (var step = 1; step <= warmup + steps; step++)
    {
        var sw = Stopwatch.StartNew();
        trainer.Train(stopAfterStep: step);   // the step log reads the loss back, so the step's kernels have finished
        if (step > warmup) times.Add(sw.Elapsed.TotalSeconds);
    }
    times.Sort();
    var median = times[times.Count / 2];
    var memory = device.Type != DeviceType.Cpu && TorchRuntime.DeviceMemory(device.Index) is { } gpu ? $",\"peak_gpu_bytes\":{gpu.Peak}" : "";
    var check = cpuLoss is { } c ? string.Create(CultureInfo.InvariantCulture, $",\"cpu_loss\":{c:F5}") : "";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"impl\":\"csharp\",\"trainer\":\"{(wholeHead ? "whole" : "chunked")}\",\"head_chunk\":{(wholeHead ? length * batch : LlamaModel.HeadChunk(vocab))},\"device\":\"{device}\",\"dtype\":\"{dtype.ShortName()}\",\"threads\":{threads},\"median_step_s\":{median:F5},\"tokens_per_s\":{batch * length / median:F1},\"loss\":{loss:F4}{check},\"checkpointing\":{(checkpointing ? 1 : 0)},\"offload\":{(offload ? 1 : 0)}{memory},\"params\":{model.ParameterCount()}}}"));
    return 0;
}
