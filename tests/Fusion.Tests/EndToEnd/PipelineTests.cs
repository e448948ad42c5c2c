using FuseChat.Fusion.Alignment;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Data;
using FuseChat.Fusion.Evaluation;
using FuseChat.Fusion.Merging;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Representations;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tests.Checkpoints;
using FuseChat.Fusion.Tests.Tokenization;
using FuseChat.Fusion.Tokenization;
using FuseChat.Fusion.Training;
using FuseChat.Torch;
using Xunit.Abstractions;

namespace FuseChat.Fusion.Tests.EndToEnd;

/// <summary>
/// The whole method in miniature: a pivot (Mistral vocabulary) and two sources with other tokenizers
/// (Llama-3 and Qwen3 vocabularies) -> representations -> alignment -> two pairwise fusions -> SCE merge
/// -> evaluation; and FuseChat-3.0's shape, a Gemma2 pivot (Gemma vocabulary, Gemma template) with a Qwen3 and a
/// Llama source. Tiny random models, so the check is that every stage runs and hands the next one what
/// it needs, and that training on the fusion targets lowers the perplexity on the training chats.
/// </summary>
[Collection(FuseChat.Fusion.Tests.Training.TrainingCollection.Name)]
public class PipelineTests(ITestOutputHelper output)
{
    /// <summary>A pivot (architecture, tokenizer fixture, template) and two sources (architecture, tokenizer fixture, CE steps that teach it the chats).</summary>
    private sealed record Setup(
        ModelArchitecture PivotArchitecture, string PivotTokenizer, string Template,
        (ModelArchitecture Architecture, string Tokenizer, int TeachSteps)[] Sources);

    private static Setup SetupOf(string name) => name switch
    {
        "fusechat-1" => new(ModelArchitecture.Llama, "llama2", "mistral", [(ModelArchitecture.Llama, "llama3", 48), (ModelArchitecture.Llama, "qwen3", 24)]),
        "fusechat-3" => new(ModelArchitecture.Gemma2, "gemma3", "gemma", [(ModelArchitecture.Qwen3, "qwen3", 48), (ModelArchitecture.Llama, "llama3", 48)]),
        // A mixture of experts as pivot (its targets are trained and merged expert by expert) and as a source, and a
        // Mistral source with Tekken, the 131k-token tokenizer of Mistral NeMo and Small 3.
        "moe" => new(ModelArchitecture.Qwen3Moe, "qwen3", "qwen3", [(ModelArchitecture.Qwen2Moe, "llama3", 48), (ModelArchitecture.Mistral, "mistral_nemo", 48)]),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static readonly (string Q, string A)[] Facts =
    [
        ("What is the capital of France?", "Paris is the capital of France."),
        ("What colour is the sky on a clear day?", "The sky is blue on a clear day."),
        ("How many legs does a spider have?", "A spider has eight legs."),
        ("What do bees make?", "Bees make honey."),
        ("Which planet is called the red planet?", "Mars is called the red planet."),
        ("What is two plus three?", "Two plus three is five."),
        ("What language is spoken in Brazil?", "Portuguese is spoken in Brazil."),
        ("What is frozen water called?", "Frozen water is called ice."),
    ];

    /// <summary>A tiny model with a real tokenizer; <paramref name="teachSteps"/> of plain CE training on the chats make it a better source than the pivot.</summary>
    private static string MakeModel(string root, string name, ModelArchitecture architecture, string tokenizerFixture, string template, ulong seed,
        string? data = null, int teachSteps = 0) =>
        TinyModelFolder.Create(Path.Combine(root, name), TokenizerFixtures.ModelDir(tokenizerFixture), seed, architecture: architecture,
            teach: teachSteps == 0 ? null : (model, tokenizer) => TinyModelFolder.Teach(model, tokenizer, ChatTemplates.Get(template),
                [.. ChatDataset.Read(data!).Select(r => r.Conversation)], teachSteps));

    [Theory]
    [InlineData("fusechat-1")]
    [InlineData("fusechat-3")]
    [InlineData("moe")]
    public void PivotAndTwoSourcesFuseIntoOneModel(string setupName)
    {
        var setup = SetupOf(setupName);
        var template = setup.Template;
        using var root = new TempFolder();
        var data = Path.Combine(root.Path, "chats.jsonl");
        File.WriteAllLines(data, Facts.Select(f =>
            $$"""{"conversations": [{"from": "human", "value": "{{f.Q}}"}, {"from": "gpt", "value": "{{f.A}}"}]}"""));
        var pivot = MakeModel(root.Path, "pivot", setup.PivotArchitecture, setup.PivotTokenizer, template, 1);
        // The sources know the chats better than the pivot (some CE training), so MinCE picks them.
        var sources = setup.Sources
            .Select((s, i) => MakeModel(root.Path, $"source-{s.Tokenizer}", s.Architecture, s.Tokenizer, template, (ulong)i + 2, data, s.TeachSteps))
            .ToArray();
        Assert.Equal(setup.PivotArchitecture, ModelConfig.Load(pivot).Architecture);

        // Stage 1: representations of every model on the same chats, through the pivot's template.
        string Represent(string model)
        {
            var outputFolder = model + ".reps";
            var summary = RepresentationRunner.Run(new RepresentationJob
            {
                ModelFolder = model, DataPath = data, Template = template, OutputFolder = outputFolder,
                Options = new RepresentationOptions { TopK = 10, ShardSize = 4 },
            });
            Assert.Equal(Facts.Length, summary.Conversations);
            return outputFolder;
        }
        var pivotReps = Represent(pivot);
        var targets = new List<string>();
        foreach (var source in sources)
        {
            var sourceReps = Represent(source);

            // Stage 2: token alignment onto the pivot's positions and vocabulary.
            var aligned = source + ".aligned";
            var alignment = AlignmentRunner.Run(new AlignmentJob
            {
                PivotRepresentations = pivotReps, SourceRepresentations = sourceReps,
                PivotTokenizer = pivot, SourceTokenizer = source, Output = aligned,
            });
            output.WriteLine($"{Path.GetFileName(source)}: {alignment}");
            Assert.False(alignment.Identity);
            Assert.Equal(Facts.Length, alignment.Conversations);
            Assert.True(alignment.Positions > 0);
            Assert.True(alignment.OneHotPositions + alignment.EmptyPositions < alignment.Positions,
                "most positions must carry the source's distribution, not a fallback");
            Assert.True(File.Exists(Path.Combine(aligned, AlignmentRunner.StatisticsFileName)));

            // Stage 3: pairwise fusion training from the pivot.
            var target = source + ".target";
            var fusion = PairwiseFusionRunner.Run(new PairwiseFusionJob
            {
                PivotModel = pivot, PivotRepresentations = pivotReps, AlignedSource = aligned, Output = target,
                Options = new FusionTrainerOptions { LearningRate = 3e-3, Epochs = 4, WarmupRatio = 0, GradientAccumulationSteps = 2, CheckpointEvery = 4 },
            });
            output.WriteLine($"{Path.GetFileName(target)}: {fusion.Steps} steps, MinCE chose the source for {fusion.SourceSelected}/{fusion.Conversations}, last {fusion.LastStep}");
            Assert.Equal(16, fusion.Steps);
            Assert.True(fusion.SourceSelected > Facts.Length / 2, $"MinCE chose the source for {fusion.SourceSelected}/{Facts.Length}");
            Assert.True(File.Exists(Path.Combine(target, "tokenizer.json")));
            targets.Add(target);
        }

        // Stage 4: SCE merge of the two targets onto the pivot.
        var recipePath = Path.Combine(root.Path, "recipe.yaml");
        File.WriteAllText(recipePath, $"""
            merge_method: sce
            base_model: pivot
            models:
              - model: {Path.GetFileName(targets[0])}
              - model: {Path.GetFileName(targets[1])}
            parameters:
              select_topk: 0.5
            dtype: float32
            """);
        var fused = Path.Combine(root.Path, "fused");
        CheckpointMerger.Run(MergeRecipe.Load(recipePath), root.Path, fused);

        // Evaluation: perplexity of every model on the chats it was trained on.
        var chats = ChatDataset.Read(data).Select(r => r.Conversation).ToList();
        var perplexities = new Dictionary<string, double>();
        foreach (var folder in new[] { pivot, targets[0], targets[1], fused })
        {
            var (model, config) = PretrainedModel.Load(folder);
            using (model)
            {
                var evaluator = new Evaluator(model, HfTokenizer.Load(folder), ChatTemplates.Get(template), config.EosTokenIds);
                perplexities[Path.GetFileName(folder)] = evaluator.Perplexity(chats).Perplexity;
            }
        }
        output.WriteLine(string.Join(", ", perplexities.Select(p => $"{p.Key}={p.Value:F1}")));
        Assert.True(perplexities[Path.GetFileName(targets[0])] < perplexities["pivot"] * 0.9);
        Assert.True(perplexities[Path.GetFileName(targets[1])] < perplexities["pivot"] * 0.9);
        Assert.True(perplexities["fused"] < perplexities["pivot"], "the merged model keeps what the targets learned");
        Assert.NotEqual(perplexities[Path.GetFileName(targets[0])], perplexities[Path.GetFileName(targets[1])]);
    }
}
