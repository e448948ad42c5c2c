using System.CommandLine;
using System.Globalization;
using FuseChat.Fusion.Training;
using FuseChat.Torch;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat fuse</c>: one pairwise fusion — the pivot fine-tuned with the fusion loss towards one
/// aligned source — giving one target model. Checkpoints as it goes; rerun to resume.
/// </summary>
internal static class FuseCommand
{
    public static Command Create()
    {
        var pivot = new Option<string>("--pivot") { Description = "The pivot's model folder.", Required = true };
        var pivotReps = new Option<string>("--pivot-reps") { Description = "The pivot's representations.", Required = true };
        var aligned = new Option<string?>("--aligned") { Description = "The source's aligned representations (omit to train on the pivot's own targets)." };
        var output = new Option<string>("--out") { Description = "Target model folder.", Required = true };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (paper: 5e-6 for 7B).", DefaultValueFactory = _ => 5e-6 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs (paper: 3).", DefaultValueFactory = _ => 3 };
        var accumulation = new Option<int>("--accumulation") { Description = "Conversations per optimiser step (paper: 128).", DefaultValueFactory = _ => 128 };
        var lambda = new Option<double>("--lambda") { Description = "Weight of the plain CE term (paper: 0.9).", DefaultValueFactory = _ => 0.9 };
        var warmup = new Option<double>("--warmup") { Description = "Warmup ratio (paper: 0.03).", DefaultValueFactory = _ => 0.03 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Optimiser steps between checkpoints (0 = end only).", DefaultValueFactory = _ => 50 };
        var dtype = new Option<string>("--dtype") { Description = "Training dtype: f32 or bf16 (fp32 master weights).", DefaultValueFactory = _ => "f32" };
        var device = new Option<string>("--device") { Description = "cpu or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var gradientCheckpointing = new Option<bool>("--gradient-checkpointing")
        {
            Description = "Recompute each layer in the backward pass instead of keeping its activations (the paper's 7B setting): far less memory, about a third more compute.",
        };
        var optimizerOffload = new Option<bool>("--optimizer-offload")
        {
            Description = "On a GPU, keep AdamW's fp32 masters and moments in host memory (12 bytes per parameter off the GPU); the update runs on the CPU.",
        };
        var command = new Command("fuse", "Pairwise fusion: fine-tune the pivot towards one aligned source with the fusion loss.")
        {
            pivot, pivotReps, aligned, output, lr, epochs, accumulation, lambda, warmup, checkpointEvery, dtype, device, gradientCheckpointing, optimizerOffload,
        };
        command.SetAction((parse, cancellation) =>
        {
            try
            {
                var job = new PairwiseFusionJob
                {
                    PivotModel = parse.GetValue(pivot)!, PivotRepresentations = parse.GetValue(pivotReps)!, AlignedSource = parse.GetValue(aligned),
                    Output = parse.GetValue(output)!, Dtype = DTypeExtensions.Parse(parse.GetValue(dtype)!), Device = Device.Parse(parse.GetValue(device)!),
                    Options = new FusionTrainerOptions
                    {
                        LearningRate = parse.GetValue(lr), Epochs = parse.GetValue(epochs), GradientAccumulationSteps = parse.GetValue(accumulation),
                        Lambda = parse.GetValue(lambda), WarmupRatio = parse.GetValue(warmup), CheckpointEvery = parse.GetValue(checkpointEvery),
                        GradientCheckpointing = parse.GetValue(gradientCheckpointing),
                        OptimizerStateDevice = FusionTrainerOptions.OffloadTarget(parse.GetValue(optimizerOffload), Device.Parse(parse.GetValue(device)!)),
                    },
                };
                PairwiseFusionSummary? summary = null;
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("training", maxValue: 1);
                        summary = PairwiseFusionRunner.Run(job, log =>
                        {
                            task.MaxValue = log.TotalSteps;
                            task.Value = log.Step;
                            task.Description = string.Create(CultureInfo.InvariantCulture,
                                $"step {log.Step}/{log.TotalSteps} loss {log.Loss:F4} (ce {log.CrossEntropy:F4}, fusion {log.Fusion:F4}) lr {log.LearningRate:G3}");
                        }, cancellation);
                        task.Value = task.MaxValue;
                    });
                var s = summary!;
                AnsiConsole.MarkupLineInterpolated(
                    $"target written to [green]{Path.GetFullPath(job.Output)}[/]: {s.Steps} steps, MinCE chose the source for {s.SourceSelected}/{s.Conversations} conversations{(s.ResumedFrom is null ? "" : $", resumed from {s.ResumedFrom}")}");
                return Task.FromResult(0);
            }
            catch (OperationCanceledException)
            {
                AnsiConsole.MarkupLine("[yellow]interrupted: rerun the same command to resume from the last checkpoint[/]");
                return Task.FromResult(130);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or InvalidDataException or ArgumentException
                                           or FusionTrainingException or TorchException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]fuse failed:[/] {e.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }
}
