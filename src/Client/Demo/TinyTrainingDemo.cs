using System.Diagnostics;
using System.Globalization;
using System.Text;
using FuseChat.Fusion.Models;
using FuseChat.Torch;
using FuseChat.Torch.Optim;
using Spectre.Console;

namespace FuseChat.Client.Demo;

/// <summary>Trains a byte-level tiny Llama on <see cref="DemoCorpus"/> with AdamW and a cosine schedule.</summary>
internal static class TinyTrainingDemo
{
    public sealed record Options(int Steps, ulong Seed, int Threads);

    private const int Batch = 16;
    private const int Length = 64;

    public static int Run(Options options, IAnsiConsole console)
    {
        if (options.Steps < 1) throw new ArgumentException($"--steps must be at least 1, got {options.Steps}");
        if (options.Threads < 0) throw new ArgumentException($"--threads must be 0 or more, got {options.Threads}");
        if (options.Threads > 0) TorchRuntime.Threads = options.Threads;
        TorchRuntime.ManualSeed(options.Seed);

        var data = Encoding.UTF8.GetBytes(DemoCorpus.Text.ReplaceLineEndings(" "));
        var config = new DecoderConfig
        {
            VocabSize = 256, HiddenSize = 64, IntermediateSize = 172, Layers = 2, Heads = 4, KeyValueHeads = 2,
            MaxPositions = Length, RmsNormEps = 1e-5,
        };
        using var model = new LlamaModel(config);
        using var optimizer = new AdamW(model.Parameters(), new AdamWOptions { LearningRate = 3e-3, WeightDecay = 0.01 });
        var schedule = CosineSchedule.WithWarmupRatio(3e-3, 0.05, options.Steps, 3e-4);
        var random = new Random((int)(options.Seed % int.MaxValue));

        console.MarkupLineInterpolated($"Tiny Llama: {config.Layers} layers, width {config.HiddenSize}, {config.Heads} heads ({config.EffectiveKeyValueHeads} key/value), {model.ParameterCount():N0} parameters, libtorch {TorchRuntime.Version}, {TorchRuntime.Threads} thread(s)");
        console.MarkupLineInterpolated($"Text: {data.Length:N0} bytes; batches of {Batch} x {Length} tokens; {options.Steps} steps");

        var losses = new List<(int Step, double Loss)>();
        var stopwatch = Stopwatch.StartNew();
        double firstLoss = double.NaN, lastLoss = double.NaN;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: options.Steps);
                for (var step = 0; step < options.Steps; step++)
                {
                    using var scope = DisposeScope.Open();
                    var ids = Tensor.From<long>(SampleBatch(data, random), [Batch, Length]);
                    optimizer.LearningRate = schedule.At(step);
                    var loss = model.Loss(ids);
                    var value = loss.ToDouble();
                    if (!double.IsFinite(value))
                        throw new InvalidOperationException($"loss became {value} at step {step + 1}; training stopped");
                    loss.Backward();
                    GradientClipping.ClipGradNorm(optimizer.Parameters, 1.0);
                    optimizer.Step();
                    optimizer.ZeroGrad();
                    if (step == 0) firstLoss = value;
                    lastLoss = value;
                    if (step == 0 || (step + 1) % Math.Max(1, options.Steps / 10) == 0 || step == options.Steps - 1)
                        losses.Add((step + 1, value));
                    task.Description = $"training  loss {value.ToString("F3", CultureInfo.InvariantCulture)}";
                    task.Increment(1);
                }
            });
        stopwatch.Stop();

        var table = new Table().AddColumn("step").AddColumn("loss").AddColumn("");
        var max = losses.Max(l => l.Loss);
        foreach (var (step, loss) in losses)
            table.AddRow(step.ToString(CultureInfo.InvariantCulture), loss.ToString("F4", CultureInfo.InvariantCulture),
                new string('#', (int)Math.Round(40 * loss / max)));
        console.Write(table);
        var tokensPerSecond = (double)options.Steps * Batch * Length / stopwatch.Elapsed.TotalSeconds;
        console.MarkupLineInterpolated($"loss {firstLoss:F3} -> {lastLoss:F3} in {stopwatch.Elapsed.TotalSeconds:F1} s ({tokensPerSecond:N0} tokens/s)");
        console.MarkupLineInterpolated($"sample: [green]{Continue(model, data, 80)}[/]");
        return lastLoss < firstLoss ? 0 : 1;
    }

    private static long[] SampleBatch(byte[] data, Random random)
    {
        var ids = new long[Batch * Length];
        for (var b = 0; b < Batch; b++)
        {
            var start = random.Next(0, data.Length - Length);
            for (var t = 0; t < Length; t++) ids[b * Length + t] = data[start + t];
        }
        return ids;
    }

    /// <summary>Greedy continuation of the text's first words, to show what the model learned.</summary>
    private static string Continue(LlamaModel model, byte[] data, int count)
    {
        using var noGrad = NoGradScope.Enter();
        var context = data.Take(24).Select(b => (long)b).ToList();
        for (var i = 0; i < count; i++)
        {
            using var scope = DisposeScope.Open();
            var window = context.Skip(Math.Max(0, context.Count - Length)).ToArray();
            var ids = Tensor.From<long>(window, [1, window.Length]);
            var logits = model.Forward(ids);
            context.Add(logits.Select(1, window.Length - 1).ArgMax(-1).ToInt64());
        }
        var text = Encoding.UTF8.GetString(context.Select(b => (byte)b).ToArray());
        return Markup.Escape(text);
    }
}
