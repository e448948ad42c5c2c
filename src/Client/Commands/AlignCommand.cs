using System.CommandLine;
using FuseChat.Fusion.Alignment;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat align</c>: maps one source's representations onto the pivot's tokens (DTW, co-occurrence
/// statistics, vocabulary map, distribution alignment). Resumable: rerun to continue.
/// </summary>
internal static class AlignCommand
{
    public static Command Create()
    {
        var pivotReps = new Option<string>("--pivot-reps") { Description = "The pivot's representations (fusechat represent).", Required = true };
        var sourceReps = new Option<string>("--source-reps") { Description = "The source's representations.", Required = true };
        var pivotTokenizer = new Option<string>("--pivot-tokenizer") { Description = "The pivot's tokenizer.json or model folder.", Required = true };
        var sourceTokenizer = new Option<string>("--source-tokenizer") { Description = "The source's tokenizer.json or model folder.", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for the aligned shards.", Required = true };
        var threads = new Option<int>("--threads") { Description = "DTW threads (-1 = all cores).", DefaultValueFactory = _ => -1 };
        var command = new Command("align", "Align a source's top-K distributions to the pivot's tokens and vocabulary.")
        {
            pivotReps, sourceReps, pivotTokenizer, sourceTokenizer, output, threads,
        };
        command.SetAction((parse, cancellation) =>
        {
            var job = new AlignmentJob
            {
                PivotRepresentations = parse.GetValue(pivotReps)!, SourceRepresentations = parse.GetValue(sourceReps)!,
                PivotTokenizer = parse.GetValue(pivotTokenizer)!, SourceTokenizer = parse.GetValue(sourceTokenizer)!,
                Output = parse.GetValue(output)!, MaxDegreeOfParallelism = parse.GetValue(threads),
            };
            try
            {
                AlignmentSummary? summary = null;
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var statistics = ctx.AddTask("pass 1: statistics", maxValue: 1);
                        var distributions = ctx.AddTask("pass 2: distributions", maxValue: 1);
                        var progress = new SynchronousProgress<AlignmentProgress>(p =>
                        {
                            var task = p.Pass == 1 ? statistics : distributions;
                            task.MaxValue = Math.Max(1, p.Total);
                            task.Value = p.Done;
                        });
                        summary = AlignmentRunner.Run(job, progress, cancellation);
                        statistics.Value = statistics.MaxValue;
                        distributions.Value = distributions.MaxValue;
                    });
                var s = summary!;
                AnsiConsole.MarkupLineInterpolated(
                    $"aligned {s.Conversations} conversations ({(s.Identity ? "identical vocabularies: no DTW" : "DTW")}), {s.Positions} positions: {s.OneHotPositions} one-hot, {s.EmptyPositions} without a source entry, {s.WithoutSource} conversations the source dropped; {s.ShardsComputed} shards computed");
                return Task.FromResult(0);
            }
            catch (OperationCanceledException)
            {
                AnsiConsole.MarkupLine("[yellow]interrupted: complete shards are kept; rerun the same command to continue[/]");
                return Task.FromResult(130);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or InvalidDataException or ArgumentException
                                           or FuseChat.Fusion.Tokenization.TokenizerLoadException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]align failed:[/] {e.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }
}
