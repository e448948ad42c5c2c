using System.CommandLine;
using System.Diagnostics;
using FuseChat.Fusion.Data;
using FuseChat.Fusion.Representations;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tokenization;
using FuseChat.Torch;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat represent --model DIR --data FILE.jsonl --template NAME --out DIR</c>: Stage 1 for one
/// model (top-K logits and metric_ce per conversation) into resumable Arrow shards.
/// </summary>
internal static class RepresentCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face model folder (config.json, safetensors, tokenizer.json).", Required = true };
        var data = new Option<string>("--data") { Description = "Chat data as JSONL (ShareGPT conversations or OpenAI messages).", Required = true };
        var template = new Option<string>("--template") { Description = $"The PIVOT's chat template ({string.Join(", ", ChatTemplates.Names)}).", Required = true };
        var output = new Option<string>("--out") { Description = "Output folder for the shards and manifest.json (a rerun resumes it).", Required = true };
        var topK = new Option<int>("--top-k") { Description = "Logits kept per trained position.", DefaultValueFactory = _ => 10 };
        var batchTokens = new Option<int>("--max-batch-tokens") { Description = "Most tokens (padding included) per forward pass.", DefaultValueFactory = _ => 4096 };
        var shardSize = new Option<int>("--shard-size") { Description = "Conversations per shard.", DefaultValueFactory = _ => 1000 };
        var device = new Option<string>("--device") { Description = "cpu or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "Weight dtype: f32 or bf16.", DefaultValueFactory = _ => "f32" };
        var compression = new Option<string>("--compression") { Description = "Shard buffer compression: zstd or none (none: readable by every Arrow implementation).", DefaultValueFactory = _ => "zstd" };
        var command = new Command("represent", "Stage 1: run one model over the data (pivot template) and store top-K logits and metric_ce as Arrow shards.")
        {
            model, data, template, output, topK, batchTokens, shardSize, device, dtype, compression,
        };
        command.SetAction(parse =>
        {
            RepresentationJob job;
            try
            {
                var weights = DTypeExtensions.Parse(parse.GetValue(dtype)!);
                if (weights is not (DType.Float32 or DType.BFloat16 or DType.Float16))
                    throw new ArgumentException($"--dtype must be f32 or bf16, got {parse.GetValue(dtype)}");
                job = new RepresentationJob
                {
                    ModelFolder = parse.GetValue(model)!,
                    DataPath = parse.GetValue(data)!,
                    Template = ChatTemplates.Get(parse.GetValue(template)!).Name,
                    OutputFolder = parse.GetValue(output)!,
                    Options = new RepresentationOptions
                    {
                        TopK = parse.GetValue(topK),
                        MaxBatchTokens = parse.GetValue(batchTokens),
                        ShardSize = parse.GetValue(shardSize),
                        Compression = parse.GetValue(compression)!.ToLowerInvariant() switch
                        {
                            "zstd" => RepresentationCompression.Zstd,
                            "none" => RepresentationCompression.None,
                            var other => throw new ArgumentException($"--compression must be zstd or none, got {other}"),
                        },
                    },
                    Device = Device.Parse(parse.GetValue(device)!),
                    DType = weights,
                };
                job.Options.Validate();
            }
            catch (ArgumentException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]invalid arguments:[/] {e.Message}");
                return 2;
            }
            return Run(job);
        });
        return command;
    }

    private static int Run(RepresentationJob job)
    {
        // Ctrl+C asks the runner to stop between forward passes, so only complete shards remain.
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        RepresentationSummary summary;
        try
        {
            var clock = Stopwatch.StartNew();
            summary = AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("loading model", maxValue: 1);
                    var progress = new SynchronousProgress<RepresentationProgress>(p =>
                    {
                        task.MaxValue = Math.Max(1, p.ConversationsTotal);
                        task.Value = p.ConversationsDone;
                        var rate = p.TokensComputed / Math.Max(1e-3, clock.Elapsed.TotalSeconds);
                        task.Description = $"conversations {p.ConversationsDone}/{p.ConversationsTotal}, shards {p.ShardsDone}, {rate:F0} tokens/s";
                    });
                    return RepresentationRunner.Run(job, progress, cancel.Token);
                });
        }
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]interrupted:[/] complete shards are kept in {Path.GetFullPath(job.OutputFolder)}; rerun the same command to continue");
            return 130;
        }
        catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException or InvalidOperationException or InvalidDataException
                                       or TokenizerLoadException or ChatDataFormatException or UnauthorizedAccessException
                                       or FuseChat.Fusion.Checkpoints.CheckpointFormatException or TorchException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]represent failed:[/] {e.Message}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        var table = new Table().AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("conversations", summary.Conversations.ToString("N0"));
        table.AddRow("written", summary.Written.ToString("N0"));
        table.AddRow("dropped (no trained token)", summary.Dropped.ToString("N0"));
        table.AddRow("truncated (longer than the model)", summary.Truncated.ToString("N0"));
        table.AddRow("tokens stored", summary.Tokens.ToString("N0"));
        table.AddRow("trained positions stored", summary.TrainedPositions.ToString("N0"));
        table.AddRow("shard bytes", summary.Bytes.ToString("N0"));
        table.AddRow("bytes per token", summary.BytesPerToken.ToString("F2"));
        table.AddRow("bytes per trained position", summary.BytesPerTrainedPosition.ToString("F2"));
        table.AddRow("shards computed / kept from before", $"{summary.ShardsComputed} / {summary.ShardsSkipped}");
        table.AddRow("padding tokens computed", summary.PaddedTokens.ToString("N0"));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"representations written to [green]{Path.GetFullPath(job.OutputFolder)}[/]");
        return 0;
    }
}
