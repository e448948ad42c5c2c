using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FuseChat.Client.Api;
using FuseChat.Grains.Planning;
using FuseChat.Grains.Runs;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat plan SPEC.yaml [--effective-tflops N] [--json]</c>: checks a run spec and says what the run will cost
/// before it starts: each model's parameters and token counts (its own tokenizer, the pivot's template), each stage's
/// floating-point operations, the training state a GPU must hold, the disk the stages write, and GPU hours at an
/// assumed effective throughput. It reads config.json, the tokenizer and the data (no weights); nothing runs. A spec
/// whose inputs are <c>artifact:</c> paths (or any spec, with --server) is estimated by a silo (POST /api/plans).
/// </summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "The run spec (YAML), as for `fusechat run`." };
        var tflops = new Option<double>("--effective-tflops")
        {
            Description = "Sustained TFLOP/s of one GPU for the GPU-hours estimate.",
            DefaultValueFactory = _ => RunCostEstimator.DefaultEffectiveTflops,
        };
        var json = new Option<bool>("--json") { Description = "Print the plan as one JSON object." };
        var server = new Option<string?>("--server")
        {
            Description = "Ask this silo (HTTP address) for the estimate, which it makes with its artifact store; the default for a spec with artifact: inputs (then FUSECHAT_SERVER or http://127.0.0.1:8080).",
        };
        var token = new Option<string?>("--token") { Description = "API token for --server (default: FUSECHAT_API_TOKEN)." };
        var command = new Command("plan", "Check a run spec and estimate its cost: parameters, tokens, FLOPs, GPU memory, disk and GPU hours.")
        {
            spec, tflops, json, server, token,
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
                // Inputs in the artifact store are for a silo to read: this machine may not reach the store at all.
                var remote = parse.GetValue(server) is not null || RunCostInputs.AnyInStore(validation.Spec!);
                RunCost plan;
                if (remote)
                {
                    using var client = new FuseChatApiClient(parse.GetValue(server), parse.GetValue(token));
                    if (!parse.GetValue(json)) AnsiConsole.MarkupLineInterpolated($"[grey]estimating on the silo at {client.Server}[/]");
                    plan = client.PlanAsync(path, effective).GetAwaiter().GetResult();
                }
                else
                {
                    plan = RunCostEstimator.Estimate(validation.Spec!, effective);
                }
                if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(plan));
                else Write(plan);
                return 0;
            }
            catch (HttpRequestException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]plan failed:[/] {e.Message}");
                if (e.StatusCode is null)
                    AnsiConsole.MarkupLine("[grey]A spec with artifact: inputs is estimated by a silo: start one or pass --server (or set FUSECHAT_SERVER).[/]");
                return 1;
            }
            catch (Exception e) when (RunCostEstimator.IsInputProblem(e))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]plan failed:[/] {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static void Write(RunCost plan)
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

    /// <summary>A count with a B/M/k suffix (shared with inspect).</summary>
    internal static string Count(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 10_000 => (n / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Bytes in GiB/MiB/KiB (shared with inspect).</summary>
    internal static string Bytes(long n) => n switch
    {
        >= 1L << 30 => (n / (double)(1L << 30)).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (n / (double)(1L << 20)).ToString("0.##", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (n / (double)(1L << 10)).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        _ => n.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
