using System.CommandLine;
using FuseChat.Fusion.Merging;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat merge RECIPE.yaml --out DIR</c>: merges Hugging Face model folders in parameter space as a
/// mergekit-format recipe says (SCE by default in FuseChat recipes), tensor by tensor. An interrupted merge
/// (Ctrl+C, a crash, a failure) is continued by running the same command again: finished shards are kept
/// in the staging folder ".DIR.merging" beside the output until the output is complete.
/// </summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var recipe = new Argument<string>("recipe") { Description = "Merge recipe in mergekit's YAML format." };
        var output = new Option<string>("--out") { Description = "Output model folder (Hugging Face layout).", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the output folder if it exists." };
        var shard = new Option<long>("--max-shard-bytes") { Description = "Largest safetensors shard.", DefaultValueFactory = _ => 5_000_000_000 };
        var command = new Command("merge", "Merge models in parameter space (sce, varm, linear, task_arithmetic, ties, dare_linear, dare_ties).")
        {
            recipe, output, overwrite, shard,
        };
        command.SetAction(parse =>
        {
            var recipePath = Path.GetFullPath(parse.GetValue(recipe)!);
            MergeRecipe parsed;
            try
            {
                parsed = MergeRecipe.Load(recipePath);
            }
            catch (Exception e) when (e is MergeRecipeException or IOException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]invalid recipe {recipePath}:[/] {e.Message}");
                return 2;
            }
            try
            {
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask($"{parsed.MergeMethod} merge", maxValue: 1);
                        var progress = new SynchronousProgress<MergeProgress>(p =>
                        {
                            task.MaxValue = Math.Max(1, p.BytesTotal);
                            task.Value = p.BytesWritten;
                            task.Description = $"{parsed.MergeMethod} merge {p.TensorsDone}/{p.TensorsTotal}";
                        });
                        CheckpointMerger.Run(parsed, Path.GetDirectoryName(recipePath)!, parse.GetValue(output)!,
                            parse.GetValue(overwrite), parse.GetValue(shard), progress,
                            log: line => AnsiConsole.MarkupLineInterpolated($"[grey]{line}[/]"));
                    });
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or NotSupportedException
                                           or FuseChat.Fusion.Checkpoints.CheckpointFormatException or FuseChat.Torch.TorchException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]merge failed:[/] {e.Message}");
                return 1;
            }
            AnsiConsole.MarkupLineInterpolated($"merged model written to [green]{Path.GetFullPath(parse.GetValue(output)!)}[/]");
            return 0;
        });
        return command;
    }
}
