using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Data;
using FuseChat.Fusion.Planning;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tokenization;
using FuseChat.Grains.Runs;
using FuseChat.Torch;

namespace FuseChat.Grains.Planning;

/// <summary>
/// What a run will cost, before it starts (<c>fusechat plan</c>, and POST /api/plans for specs whose inputs are in
/// the artifact store): each model's parameters and token counts on the spec's training data (its own tokenizer, the
/// pivot's template), each stage's floating-point operations, the memory a training step must hold, the disk the
/// stages write, and GPU hours at an assumed effective throughput. It reads config.json, the tokenizer and the data;
/// no weights, and nothing runs.
/// </summary>
public static class RunCostEstimator
{
    /// <summary>Effective bf16 throughput of one GPU assumed when none is given: about a third of an H100's dense peak.</summary>
    public const double DefaultEffectiveTflops = 300;

    /// <summary>
    /// Whether <paramref name="e"/> is how <see cref="Estimate"/> or <see cref="RunCostInputs.FetchAsync"/> reports a
    /// problem with the spec's inputs (a missing or malformed model, tokenizer or data file): a message for the user,
    /// not a fault.
    /// </summary>
    public static bool IsInputProblem(Exception e) =>
        e is IOException or InvalidOperationException or CheckpointFormatException or TokenizerLoadException or ChatDataFormatException or ArgumentException;

    /// <summary>Estimates <paramref name="spec"/>; throws when a model or data file is not local.</summary>
    public static RunCost Estimate(RunSpec spec, double effectiveTflops)
    {
        // artifact: inputs are pulled by the workers of a running run; before that there is nothing local to read.
        var remote = RunSpecValidator.ArtifactModelPrefixes(spec).Concat(RunSpecValidator.ArtifactDataKeys(spec)).ToList();
        if (remote.Count > 0)
        {
            throw new InvalidOperationException(
                $"{string.Join(", ", remote.Select(k => RunSpecValidator.ArtifactScheme + k))} in the artifact store: fetch them first (RunCostInputs), as a silo does for POST /api/plans");
        }

        var template = ChatTemplates.Get(spec.Pivot.Template);
        var conversations = ChatDataset.Read(spec.Data.Train).Select(r => r.Conversation).ToList();
        var pivotConfig = ModelConfig.Load(spec.Pivot.Path);
        var pivotTokenizer = HfTokenizer.Load(spec.Pivot.Path);
        var pivot = Model("pivot", pivotConfig, pivotTokenizer, template, conversations);
        var sources = spec.Sources.Select(s => Model(s.Name, ModelConfig.Load(s.Path), HfTokenizer.Load(s.Path), template, conversations)).ToList();
        var k = spec.Representation.TopK;
        var stages = new List<StageCost>();
        foreach (var m in sources.Prepend(pivot))
        {
            stages.Add(new StageCost("representations", m.Name, ResourceEstimate.ForwardFlops(m.ActiveParameters, m.Tokens), null,
                ResourceEstimate.RepresentationBytesBound(m.Tokens, m.TrainedTokens, k)));
        }

        // Aligned shards are on the pivot's tokens, one per source.
        foreach (var s in sources)
            stages.Add(new StageCost("alignment", s.Name, 0, null, ResourceEstimate.RepresentationBytesBound(pivot.Tokens, pivot.TrainedTokens, k)));

        var dtype = DTypeExtensions.Parse(spec.Training.Dtype);
        // Each micro-batch is one conversation, so the longest one sets a step's activations.
        var checkpointing = spec.Training.GradientCheckpointing;
        var activations = ResourceEstimate.ActivationBytes(pivotConfig, pivot.LongestConversation, dtype, checkpointing);
        var steps = (long)Math.Ceiling(conversations.Count / (double)spec.Training.Accumulation) * spec.Training.Epochs;
        foreach (var s in sources)
        {
            stages.Add(new StageCost("fusion", $"{s.Name}: {steps} steps, {spec.Training.Dtype}",
                ResourceEstimate.TrainingFlops(pivot.ActiveParameters, pivot.Tokens * spec.Training.Epochs),
                ResourceEstimate.TrainingStateBytes(pivot.Parameters, dtype, spec.Training.OptimizerOffload),
                ResourceEstimate.CheckpointBytes(pivot.Parameters, dtype, spec.Training.OptimizerOffload), activations));
        }

        var mergeDtype = spec.Merge.Dtype is { } d ? DTypeExtensions.Parse(d) : DType.Float32;
        stages.Add(new StageCost("merge", $"{spec.Merge.Method}, {mergeDtype.ShortName()}", 0, null,
            pivot.Parameters * mergeDtype.ElementSize()));

        if (spec.Data.EvalChats is { } evalPath)
        {
            var evaluated = 2 + sources.Count; // the pivot, each target, the fused model
            var eval = Model("pivot", pivotConfig, pivotTokenizer, template, ChatDataset.Read(evalPath).Select(r => r.Conversation).ToList());
            stages.Add(new StageCost("evaluation", $"{evaluated} models, perplexity", evaluated * ResourceEstimate.ForwardFlops(pivot.ActiveParameters, eval.Tokens), null, 0));
        }

        var total = stages.Sum(s => s.Flops);
        return new RunCost(conversations.Count, [pivot, .. sources], stages, total, effectiveTflops, total / (effectiveTflops * 1e12) / 3600)
        {
            GradientCheckpointing = checkpointing,
            LongestConversation = pivot.LongestConversation,
            AlternativeActivationBytes = ResourceEstimate.ActivationBytes(pivotConfig, pivot.LongestConversation, dtype, !checkpointing),
            OffloadedHostBytes = spec.Training.OptimizerOffload ? ResourceEstimate.OffloadedStateBytes(pivot.Parameters) : null,
        };
    }

    private static ModelCost Model(string name, ModelConfig config, HfTokenizer tokenizer, IChatTemplate template, IReadOnlyList<Conversation> conversations)
    {
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

        return new ModelCost(name, config.ArchitectureName, ResourceEstimate.Parameters(config), ResourceEstimate.ActiveParameters(config), config.VocabSize,
            tokens, trained, truncated, longest);
    }
}
