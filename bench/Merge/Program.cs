// bench/run merge, C# side. "make DIR": writes a pivot and three targets (same shapes, bf16) for the
// merge benchmark. "merge RECIPE OUT": runs the streaming SCE merge and prints one JSON line with the
// wall time, the bytes read, the peak resident memory (VmHWM), the resident memory before the merge and
// the design bound (targets + 2) x the largest tensor as float32, with the merge's own peak over that bound.
using System.Diagnostics;
using System.Globalization;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Merging;
using FuseChat.Fusion.Models;
using FuseChat.Torch;

if (args.Length >= 2 && args[0] == "make")
{
    var root = args[1];
    var hidden = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1024;
    var config = ModelConfig.Parse($$"""
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000, "hidden_size": {{hidden}},
         "intermediate_size": {{hidden * 11 / 4}}, "num_hidden_layers": 4, "num_attention_heads": 8, "num_key_value_heads": 8,
         "rms_norm_eps": 1e-5, "max_position_embeddings": 2048, "hidden_act": "silu", "torch_dtype": "bfloat16"}
        """);
    TorchRuntime.ManualSeed(1);
    using var pivot = new LlamaModel(DecoderConfig.From(config));
    PretrainedModel.Save(pivot, config, Path.Combine(root, "pivot"), DType.BFloat16, maxShardBytes: 200_000_000);
    for (var t = 0; t < 3; t++)
    {
        // A target = pivot + a small random update, as fine-tuning makes.
        using var target = new LlamaModel(DecoderConfig.From(config));
        using (NoGradScope.Enter())
        {
            var source = pivot.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor);
            foreach (var (name, tensor) in target.NamedParameters())
            {
                using var scope = DisposeScope.Open();
                tensor.CopyFrom(source[name] + Tensor.Randn(tensor.Shape) * 1e-3);
            }
        }
        PretrainedModel.Save(target, config, Path.Combine(root, $"target{t}"), DType.BFloat16, maxShardBytes: 200_000_000);
    }
    return 0;
}
if (args.Length >= 3 && args[0] == "merge")
{
    TorchRuntime.Threads = 1;
    var recipePath = Path.GetFullPath(args[1]);
    var output = args[2];
    if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
    // A staging folder left by an interrupted run would be resumed: each run here starts from nothing.
    if (Directory.Exists(CheckpointMerger.StagingFolder(output))) Directory.Delete(CheckpointMerger.StagingFolder(output), recursive: true);
    var recipe = MergeRecipe.Load(recipePath);
    var root = Path.GetDirectoryName(recipePath)!;
    long bytesRead = recipe.Models.Select(m => m.Model).Append(recipe.BaseModel!).Distinct()
        .Sum(m => Directory.GetFiles(Path.Combine(root, m), "*.safetensors").Sum(f => new FileInfo(f).Length));
    // The merge's design bound: (targets + 2) float32 tensors of the largest tensor's size (the pivot, one
    // working copy per target, one scratch). The process's resident memory before the merge (runtime,
    // libtorch) is reported apart so the bound can be compared with what the merge itself adds.
    long largestElements;
    using (var pivotReader = CheckpointReader.Open(Path.Combine(root, recipe.BaseModel!)))
        largestElements = pivotReader.EnumerateTensors().Max(t => t.Shape.Aggregate(1L, (a, b) => a * b));
    var boundBytes = (recipe.Targets.Count + 2) * largestElements * 4;
    using (var warm = Tensor.Zeros([1])) { }
    var floorKb = StatusKb("VmRSS:");
    var stopwatch = Stopwatch.StartNew();
    CheckpointMerger.Run(recipe, root, output);
    stopwatch.Stop();
    var peakKb = StatusKb("VmHWM:");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"impl\":\"csharp\",\"seconds\":{stopwatch.Elapsed.TotalSeconds:F3},\"gb_per_s\":{bytesRead / stopwatch.Elapsed.TotalSeconds / 1e9:F4},\"peak_rss_mb\":{peakKb / 1024.0:F1},\"bytes_read\":{bytesRead},"
        + $"\"rss_before_merge_mb\":{floorKb / 1024.0:F1},\"bound_mb\":{boundBytes / 1048576.0:F1},\"merge_peak_over_bound\":{(peakKb - floorKb) * 1024.0 / boundBytes:F3}}}"));
    return 0;
}
Console.Error.WriteLine("usage: make DIR [HIDDEN] | merge RECIPE OUT");
return 2;

static long StatusKb(string field)
{
    var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
