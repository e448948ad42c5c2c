using System.Globalization;
using FuseChat.Fusion.Data;
using FuseChat.Fusion.Evaluation;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tokenization;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Placement;
using Microsoft.Extensions.Logging;

namespace FuseChat.Grains.Runs;

/// <summary>
/// The evaluation (key: the run id), on GPU silos: perplexity and exact match of pivot, targets and fused
/// model; writes report.json and report.md. Short compared with training, so a restart redoes it whole.
/// </summary>
[RequiresGpu]
public sealed class EvaluationStageGrain(
    [PersistentState(RunStorage.WorkerState, RunStorage.Name)] IPersistentState<WorkerState<EvaluationWork>> state,
    IServiceProvider services,
    ILogger<EvaluationStageGrain> logger)
    : StageWorkerGrain<EvaluationWork>(state, logger), IEvaluationStageGrain
{
    /// <inheritdoc />
    protected override RunStage Stage => RunStage.Evaluation;

    /// <inheritdoc />
    public Task<WorkStatus> StartAsync(EvaluationWork work) => StartWorkAsync(work);

    /// <inheritdoc />
    protected override string RunIdOf(EvaluationWork work) => work.RunId;

    /// <inheritdoc />
    protected override string? RunOutputFolderOf(EvaluationWork work) => RunPlan.OutputFolderOfEntry(work.JsonPath);

    /// <summary>The evaluated models that lie in the run's output folder (targets, fused), relative to it.</summary>
    /// <param name="work">The work.</param>
    protected override IEnumerable<string> Inputs(EvaluationWork work)
    {
        var root = RunPlan.OutputFolderOfEntry(work.JsonPath);
        return [.. InsideRun(root, work.Models.Select(m => m.Folder).Concat(new[] { work.ChatsPath, work.TasksPath }.OfType<string>()))];
    }

    /// <inheritdoc />
    protected override IEnumerable<string> Outputs(EvaluationWork work)
    {
        var root = RunPlan.OutputFolderOfEntry(work.JsonPath);
        return [RelativeTo(root, work.JsonPath), RelativeTo(root, work.MarkdownPath)];
    }

    /// <inheritdoc />
    protected override string Execute(EvaluationWork work, WorkProgress progress, CancellationToken cancellationToken)
    {
        var template = ChatTemplates.Get(work.Template);
        var conversations = work.ChatsPath is null ? null : ChatDataset.Read(work.ChatsPath).Select(r => r.Conversation).ToList();
        var examples = work.TasksPath is null ? null : TaskSet.Read(work.TasksPath);
        var results = new List<ModelEvaluation>();
        for (var i = 0; i < work.Models.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = work.Models[i];
            progress.Report((double)i / work.Models.Count, $"evaluating {entry.Name}");
            var tokenizer = HfTokenizer.Load(entry.Folder);
            var (loaded, config) = PretrainedModel.Load(entry.Folder, device: WorkDevice.Of(services));
            using var model = loaded;
            var evaluator = new Evaluator(model, tokenizer, template, config.EosTokenIds);
            var result = new ModelEvaluation { Model = entry.Name };
            if (conversations is not null)
            {
                var (perplexity, tokens, count) = evaluator.Perplexity(conversations);
                result = result with { Perplexity = perplexity, PerplexityTokens = tokens, Conversations = count };
            }

            if (examples is not null)
            {
                var (accuracy, correct) = evaluator.ExactMatch(examples);
                result = result with { ExactMatch = accuracy, TaskExamples = examples.Count, TaskCorrect = correct };
            }

            results.Add(result);
        }

        var report = new EvaluationReport(results);
        WriteAtomically(work.JsonPath, report.ToJson());
        WriteAtomically(work.MarkdownPath, report.ToMarkdown());
        return string.Create(CultureInfo.InvariantCulture, $"{results.Count} models evaluated");
    }

    private static void WriteAtomically(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path) ?? ".");
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }
}
