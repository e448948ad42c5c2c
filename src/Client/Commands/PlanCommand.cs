using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Data;
using FuseChat.Fusion.Planning;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tokenization;
using FuseChat.Grains.Runs;
using FuseChat.Torch;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat plan SPEC.yaml [--effective-tflops N] [--json]</c>: checks a run spec and says what the run will cost
/// before it starts: each model's parameters and token counts (its own tokenizer, the pivot's template), each stage's
/// floating-point operations, the training state a GPU must hold, the disk the stages write, and GPU hours at an
/// assumed effective throughput. It reads local model folders and data only; nothing runs.
/// </summary>
internal static class PlanCommand
{
    /// <summary>Effective bf16 throughput assumed by default: about a third of an H100's dense peak.</summary>
    public const double DefaultEffectiveTflops = 300;

    public static Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "The run spec (YAML), as for `fusechat run`." };
        var tflops = new Option<double>("--effective-tflops")
        {
            Description = "Sustained TFLOP/s of one GPU for the GPU-hours estimate.",
            DefaultValueFactory = _ => DefaultEffectiveTflops,
        };
        var json = new Option<bool>("--json") { Description = "Print the plan as one JSON object." };
        var command = new Command("plan", "Check a run spec and estimate its cost: parameters, tokens, FLOPs, GPU memory, disk and GPU hours.")
        {
            spec, tflops, json,
        };
        command.SetAction(parse =>
        {
            var path = Path.GetFullPath(parse.GetValue(spec)!);
            if (!File.Exists(path))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]plan failed:[/] no spec file at {path}");
                return 2;
            }

            var validation = RunSpecValidator.Validate(File.ReadAllText(path), Path.GetDirectoryName(path)!);
            if (!validation.IsValid)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]the spec has {validation.Problems.Count} problem(s):[/]");
                foreach (var problem in validation.Problems) AnsiConsole.MarkupLineInterpolated($"  - {problem}");
                return 2;
            }

            var effective = parse.GetValue(tflops);
            if (!(effective > 0))
            {
                AnsiConsole.MarkupLine("[red]plan failed:[/] --effective-tflops must be positive");
                return 2;
            }

            try
            {
                var plan = Estimate(validation.Spec!, effective);
                if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(plan));
                else Write(plan);
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or CheckpointFormatException or TokenizerLoadException
                                           or ChatDataFormatException or ArgumentException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]plan failed:[/] {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>One model of the run and the training data as its tokenizer sees it.</summary>
    internal sealed record ModelPlan(string Name, string Architecture, long Parameters, long ActiveParameters, int Vocabulary, long Tokens, long TrainedTokens,
        int Truncated, int LongestConversation);

    /// <summary>
    /// One stage's share: operations, memory that must fit on one device (a training step's state, and about its
    /// activations on the longest conversation), and bytes written.
    /// </summary>
    internal sealed record StagePlan(string Stage, string What, double Flops, long? DeviceBytes, long DiskBytes, long? ActivationBytes = null);

    /// <summary>The whole estimate.</summary>
    internal sealed record RunPlan(int Conversations, IReadOnlyList<ModelPlan> Models, IReadOnlyList<StagePlan> Stages, double TotalFlops,
        double EffectiveTflops, double GpuHours)
    {
        /// <summary>training.gradient_checkpointing of the spec.</summary>
        public bool GradientCheckpointing { get; init; }

        /// <summary>Tokens of the longest training conversation on the pivot's tokenizer: one micro-batch's length.</summary>
        public int LongestConversation { get; init; }

        /// <summary>About the activations of a training step with gradient checkpointing switched the other way.</summary>
        public long AlternativeActivationBytes { get; init; }

        /// <summary>Host memory of the offloaded optimiser state (training.optimizer_offload), per fusion run.</summary>
        public long? OffloadedHostBytes { get; init; }
    }

    /// <summary>Estimates <paramref name="spec"/>; throws when a model or data file is not local.</summary>
    internal static RunPlan Estimate(RunSpec spec, double effectiveTflops)
    {
        // artifact: inputs are pulled by the workers of a running run; before that there is nothing local to read.
        var remote = RunSpecValidator.ArtifactModelPrefixes(spec).Concat(RunSpecValidator.ArtifactDataKeys(spec)).ToList();
        if (remote.Count > 0)
        {
            throw new InvalidOperationException(
                $"{string.Join(", ", remote.Select(k => RunSpecValidator.ArtifactScheme + k))} in the artifact store; plan reads local model folders and data files only");
        }

        var template = ChatTemplates.Get(spec.Pivot.Template);
        var conversations = ChatDataset.Read(spec.Data.Train).Select(r => r.Conversation).ToList();
        var pivot = Model("pivot", spec.Pivot.Path, template, conversations);
        var sources = spec.Sources.Select(s => Model(s.Name, s.Path, template, conversations)).ToList();
        var k = spec.Representation.TopK;
        var stages = new List<StagePlan>();
        foreach (var m in sources.Prepend(pivot))
        {
            stages.Add(new StagePlan("representations", m.Name, ResourceEstimate.ForwardFlops(m.ActiveParameters, m.Tokens), null,
                ResourceEstimate.RepresentationBytesBound(m.Tokens, m.TrainedTokens, k)));
        }

        // Aligned shards are on the pivot's tokens, one per source.
        foreach (var s in sources)
            stages.Add(new StagePlan("alignment", s.Name, 0, null, ResourceEstimate.RepresentationBytesBound(pivot.Tokens, pivot.TrainedTokens, k)));

        var dtype = DTypeExtensions.Parse(spec.Training.Dtype);
        // Each micro-batch is one conversation, so the longest one sets a step's activations.
        var pivotConfig = ModelConfig.Load(spec.Pivot.Path);
        var checkpointing = spec.Training.GradientCheckpointing;
        var activations = ResourceEstimate.ActivationBytes(pivotConfig, pivot.LongestConversation, dtype, checkpointing);
        var steps = (long)Math.Ceiling(conversations.Count / (double)spec.Training.Accumulation) * spec.Training.Epochs;
        foreach (var s in sources)
        {
            stages.Add(new StagePlan("fusion", $"{s.Name}: {steps} steps, {spec.Training.Dtype}",
                ResourceEstimate.TrainingFlops(pivot.ActiveParameters, pivot.Tokens * spec.Training.Epochs),
                ResourceEstimate.TrainingStateBytes(pivot.Parameters, dtype, spec.Training.OptimizerOffload),
                ResourceEstimate.CheckpointBytes(pivot.Parameters, dtype), activations));
        }

        var mergeDtype = spec.Merge.Dtype is { } d ? DTypeExtensions.Parse(d) : DType.Float32;
        stages.Add(new StagePlan("merge", $"{spec.Merge.Method}, {mergeDtype.ShortName()}", 0, null,
            pivot.Parameters * mergeDtype.ElementSize()));

        if (spec.Data.EvalChats is { } evalPath)
        {
            var evaluated = 2 + sources.Count; // the pivot, each target, the fused model
            var eval = Model("pivot", spec.Pivot.Path, template, ChatDataset.Read(evalPath).Select(r => r.Conversation).ToList());
            stages.Add(new StagePlan("evaluation", $"{evaluated} models, perplexity", evaluated * ResourceEstimate.ForwardFlops(pivot.ActiveParameters, eval.Tokens), null, 0));
        }

        var total = stages.Sum(s => s.Flops);
        return new RunPlan(conversations.Count, [pivot, .. sources], stages, total, effectiveTflops, total / (effectiveTflops * 1e12) / 3600)
        {
            GradientCheckpointing = checkpointing,
            LongestConversation = pivot.LongestConversation,
            AlternativeActivationBytes = ResourceEstimate.ActivationBytes(pivotConfig, pivot.LongestConversation, dtype, !checkpointing),
            OffloadedHostBytes = spec.Training.OptimizerOffload ? ResourceEstimate.OffloadedStateBytes(pivot.Parameters) : null,
        };
    }

    private static ModelPlan Model(string name, string folder, IChatTemplate template, IReadOnlyList<Conversation> conversations)
    {
        var config = ModelConfig.Load(folder);
        var tokenizer = HfTokenizer.Load(folder);
        long tokens = 0, trained = 0;
        int truncated = 0, longest = 0;
        foreach (var conversation in conversations)
        {
            var encoded = ChatEncoder.Encode(conversation, template, tokenizer);
            var length = Math.Min(encoded.Ids.Length, config.MaxPositionEmbeddings);
            if (length < encoded.Ids.Length) truncated++;
            longest = Math.Max(longest, length);
            tokens += length;
            trained += NextTokenLabels.Count(encoded.Trained, length);
        }

        return new ModelPlan(name, config.ArchitectureName, ResourceEstimate.Parameters(config), ResourceEstimate.ActiveParameters(config), config.VocabSize,
            tokens, trained, truncated, longest);
    }

    private static void Write(RunPlan plan)
    {
        var models = new Table().AddColumn("model").AddColumn("architecture").AddColumn("parameters").AddColumn("vocabulary")
            .AddColumn("tokens").AddColumn("trained tokens");
        foreach (var m in plan.Models)
        {
            models.AddRow(Markup.Escape(m.Name), m.Architecture,
                Count(m.Parameters) + (m.ActiveParameters < m.Parameters ? $" ({Count(m.ActiveParameters)} active)" : ""), m.Vocabulary.ToString("N0", CultureInfo.InvariantCulture),
                Count(m.Tokens) + (m.Truncated > 0 ? $" ({m.Truncated} cut)" : ""), Count(m.TrainedTokens));
        }

        AnsiConsole.MarkupLineInterpolated($"[bold]{plan.Conversations}[/] training conversations");
        AnsiConsole.Write(models);
        var stages = new Table().AddColumn("stage").AddColumn("what").AddColumn("FLOPs").AddColumn("on one device").AddColumn("writes (about)");
        foreach (var s in plan.Stages)
        {
            stages.AddRow(s.Stage, Markup.Escape(s.What), s.Flops == 0 ? "-" : s.Flops.ToString("0.00e+00", CultureInfo.InvariantCulture),
                s.DeviceBytes is { } b ? Bytes(b) + (s.ActivationBytes is { } a ? $" + {Bytes(a)} activations" : "") : "-", Bytes(s.DiskBytes));
        }

        AnsiConsole.Write(stages);
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"total {plan.TotalFlops:0.00e+00} FLOPs: about [bold]{Duration(plan.GpuHours)}[/] of one GPU at {plan.EffectiveTflops:0} effective TFLOP/s (--effective-tflops)");
        if (plan.Stages.Any(s => s.ActivationBytes is not null))
        {
            var current = plan.Stages.First(s => s.ActivationBytes is not null).ActivationBytes!.Value;
            var (now, other) = plan.GradientCheckpointing ? ("on", "off") : ("off", "on (training.gradient_checkpointing: true)");
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[grey]Activations are about, for the longest conversation ({plan.LongestConversation} tokens), with fused attention. Gradient checkpointing {now}: {Bytes(current)}; {other}: {Bytes(plan.AlternativeActivationBytes)}.[/]");
        }
        if (plan.OffloadedHostBytes is { } host)
            AnsiConsole.MarkupLineInterpolated($"[grey]Optimiser offload: the device holds weights and gradients only; each training process keeps {Bytes(host)} of fp32 masters and moments in host memory.[/]");
        AnsiConsole.MarkupLine("[grey]Checkpoint sizes are per checkpoint. Shard sizes count the token data before zstd and leave out each shard's " +
            "fixed overhead and the alignment statistics, small against a real corpus. Alignment and merging run on CPUs.[/]");
    }

    private static string Duration(double hours) => hours switch
    {
        >= 1 => hours.ToString("0.#", CultureInfo.InvariantCulture) + " hours",
        >= 1 / 60.0 => (hours * 60).ToString("0.#", CultureInfo.InvariantCulture) + " minutes",
        _ => (hours * 3600).ToString("0.###", CultureInfo.InvariantCulture) + " seconds",
    };

    private static string Count(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 10_000 => (n / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    private static string Bytes(long n) => n switch
    {
        >= 1L << 30 => (n / (double)(1L << 30)).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (n / (double)(1L << 20)).ToString("0.##", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (n / (double)(1L << 10)).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        _ => n.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
