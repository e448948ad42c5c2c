using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Merging;
using FuseChat.Fusion.Models;

namespace FuseChat.Fusion.Training;

/// <summary>
/// Runs a pairwise fusion end to end: loads the pivot, builds the MinCE-selected targets, trains with
/// checkpoints (a rerun resumes from the latest one), and publishes the target model folder (weights,
/// config and the pivot's tokenizer files) atomically.
/// </summary>
public static class PairwiseFusionRunner
{
    /// <summary>Trains (or resumes) and writes the target; returns the final step log and the MinCE counts.</summary>
    /// <param name="job">What to train.</param>
    /// <param name="log">Called after every optimiser step.</param>
    /// <param name="cancellationToken">Checked between steps; the latest checkpoint stays for a rerun.</param>
    /// <param name="checkpointed">Called after every checkpoint written.</param>
    public static PairwiseFusionSummary Run(PairwiseFusionJob job, Action<FusionStepLog>? log = null, CancellationToken cancellationToken = default,
        Action<FusionCheckpointLog>? checkpointed = null)
    {
        var output = Path.GetFullPath(job.Output);
        if (File.Exists(Path.Combine(output, ModelConfig.FileName)))
            throw new IOException($"target folder {output} already exists; delete it to train again");
        var checkpoints = job.CheckpointFolder ?? output + ".checkpoints";
        var source = new RepresentationFusionSource(job.PivotRepresentations, job.AlignedSource, (int)(job.Options.Seed % int.MaxValue));
        var (model, config) = PretrainedModel.Load(job.PivotModel, job.Dtype, job.Device);
        using (model)
        {
            using var trainer = new FusionTrainer(model, source, job.Options with { CheckpointFolder = checkpoints });
            FusionStepLog? last = null;
            trainer.Log = entry =>
            {
                last = entry;
                log?.Invoke(entry);
            };
            trainer.CheckpointWritten = checkpointed;
            var resumedFrom = FusionTrainer.FindLatestCheckpoint(checkpoints);
            if (resumedFrom is not null) trainer.Resume(resumedFrom);
            var resumedAt = trainer.Step;
            trainer.Train(cancellationToken: cancellationToken);

            var parent = Path.GetDirectoryName(output) ?? ".";
            Directory.CreateDirectory(parent);
            var staging = Path.Combine(parent, $".{Path.GetFileName(output)}.saving-{Guid.NewGuid():N}");
            try
            {
                trainer.SaveTarget(staging, config);
                foreach (var file in CheckpointMerger.TokenizerFiles)
                {
                    var from = Path.Combine(job.PivotModel, file);
                    if (File.Exists(from)) File.Copy(from, Path.Combine(staging, file));
                }
                if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
                Directory.Move(staging, output);
            }
            catch
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                throw;
            }
            return new PairwiseFusionSummary(trainer.Step, source.Conversations, source.SourceSelected, last, resumedFrom, resumedAt);
        }
    }
}
