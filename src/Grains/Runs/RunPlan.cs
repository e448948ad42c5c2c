using System.Globalization;
using System.Text;
using FuseChat.Fusion.Merging;
using FuseChat.Grains.Interfaces.Runs;
using YamlDotNet.RepresentationModel;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Where a run's artifacts go and what each worker grain is asked to do, derived from the spec alone so
/// that every activation of the run grain (after a silo loss too) computes the same plan.
/// </summary>
internal sealed class RunPlan
{
    public RunPlan(string runId, RunSpec spec)
    {
        RunId = runId;
        Spec = spec;
        Models = [new(RunSpecValidator.PivotName, spec.Pivot.Path), .. spec.Sources.Select(s => (s.Name, s.Path))];
    }

    public string RunId { get; }

    public RunSpec Spec { get; }

    /// <summary>The pivot first, then the sources.</summary>
    public IReadOnlyList<(string Name, string Folder)> Models { get; }

    public IEnumerable<string> SourceNames => Spec.Sources.Select(s => s.Name);

    public string FusedFolder => FusedFolderOf(Spec);

    public string ReportJson => Path.Combine(Spec.OutputFolder, "report.json");

    public string ReportMarkdown => Path.Combine(Spec.OutputFolder, "report.md");

    public string WorkerKey(string model) => $"{RunId}/{model}";

    public string RepresentationsFolder(string model) => Path.Combine(Spec.OutputFolder, "work", "reps", model);

    public string AlignedFolder(string source) => Path.Combine(Spec.OutputFolder, "work", "aligned", source);

    public static string TargetFolder(RunSpec spec, string source) => Path.Combine(spec.OutputFolder, "work", "targets", source);

    public static string FusedFolderOf(RunSpec spec) => Path.Combine(spec.OutputFolder, "fused");

    /// <summary>The output folder of a run, from one of its "{output}/work/{kind}/{name}" folders (representations, aligned, targets).</summary>
    public static string OutputFolderOfWorkFolder(string workFolder) => Path.GetFullPath(Path.Combine(workFolder, "..", "..", ".."));

    /// <summary>The output folder of a run, from its fused folder or a file of its own (report.json).</summary>
    public static string OutputFolderOfEntry(string path) => Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";

    public RepresentationWork Representation(string model) => new()
    {
        RunId = RunId,
        ModelFolder = Models.First(m => m.Name == model).Folder,
        DataPath = Spec.Data.Train,
        Template = Spec.Pivot.Template,
        OutputFolder = RepresentationsFolder(model),
        TopK = Spec.Representation.TopK,
        MaxBatchTokens = Spec.Representation.MaxBatchTokens,
        ShardSize = Spec.Representation.ShardSize,
        Dtype = Spec.Representation.Dtype,
    };

    public AlignmentWork Alignment(string source) => new()
    {
        RunId = RunId,
        PivotRepresentations = RepresentationsFolder(RunSpecValidator.PivotName),
        SourceRepresentations = RepresentationsFolder(source),
        PivotTokenizer = Spec.Pivot.Path,
        SourceTokenizer = Spec.Sources.First(s => s.Name == source).Path,
        OutputFolder = AlignedFolder(source),
        Threads = Spec.Alignment.Threads,
        ParallelShards = Spec.Alignment.ParallelShards,
    };

    public PairwiseFusionWork Fusion(string source) => new()
    {
        RunId = RunId,
        PivotModel = Spec.Pivot.Path,
        PivotRepresentations = RepresentationsFolder(RunSpecValidator.PivotName),
        AlignedSource = AlignedFolder(source),
        OutputFolder = TargetFolder(Spec, source),
        LearningRate = Spec.Training.LearningRate,
        Epochs = Spec.Training.Epochs,
        Accumulation = Spec.Training.Accumulation,
        Lambda = Spec.Training.Lambda,
        Warmup = Spec.Training.Warmup,
        CheckpointEvery = Spec.Training.CheckpointEvery,
        Dtype = Spec.Training.Dtype,
        GradientCheckpointing = Spec.Training.GradientCheckpointing,
        OptimizerOffload = Spec.Training.OptimizerOffload,
    };

    public MergeWork Merge() => new()
    {
        RunId = RunId,
        RecipeYaml = MergeRecipeYaml(Spec),
        OutputFolder = FusedFolder,
        Ranges = Spec.Merge.Ranges,
        MaxShardBytes = Spec.Merge.ShardBytes,
        ParallelRanges = Spec.Merge.ParallelRanges,
    };

    public EvaluationWork Evaluation() => new()
    {
        RunId = RunId,
        Models =
        [
            new EvaluatedModel(RunSpecValidator.PivotName, Spec.Pivot.Path),
            .. SourceNames.Select(s => new EvaluatedModel($"target-{s}", TargetFolder(Spec, s))),
            new EvaluatedModel("fused", FusedFolder),
        ],
        Template = Spec.Pivot.Template,
        // Without held-out data the training chats still show whether fusion moved the models.
        ChatsPath = Spec.Data.EvalChats ?? (Spec.Data.EvalTasks is null ? Spec.Data.Train : null),
        TasksPath = Spec.Data.EvalTasks,
        JsonPath = ReportJson,
        MarkdownPath = ReportMarkdown,
    };

    /// <summary>
    /// The mergekit recipe the merge stage runs, with absolute folders: built from the method settings, or
    /// the user's recipe file with base_model set to the pivot and source names under models replaced by
    /// their targets. Throws <see cref="MergeRecipeException"/> for a recipe naming an unknown model.
    /// </summary>
    public static string MergeRecipeYaml(RunSpec spec)
    {
        var pivot = spec.Pivot.Path;
        var targets = spec.Sources.ToDictionary(s => s.Name, s => TargetFolder(spec, s.Name), StringComparer.Ordinal);
        return spec.Merge.RecipeFile is { } file ? FromRecipeFile(file, pivot, targets) : FromSettings(spec.Merge, pivot, targets.Values);
    }

    private static string FromSettings(MergeSpec merge, string pivot, IEnumerable<string> targets)
    {
        var c = CultureInfo.InvariantCulture;
        var yaml = new StringBuilder();
        yaml.Append(c, $"merge_method: {merge.Method}\n");
        yaml.Append(c, $"base_model: {Quote(pivot)}\n");
        yaml.Append("models:\n");
        foreach (var target in targets) yaml.Append(c, $"  - model: {Quote(target)}\n");
        var parameters = new StringBuilder();
        if (merge.Method == MergeMethods.Sce)
        {
            parameters.Append(c, $"  select_topk: {merge.SelectTopK.ToString("R", c)}\n");
            if (merge.SceVariant is { } variant) parameters.Append(c, $"  sce_variant: {Quote(variant)}\n");
        }

        if (merge.Weight is { } weight) parameters.Append(c, $"  weight: {weight.ToString("R", c)}\n");
        if (merge.Density is { } density) parameters.Append(c, $"  density: {density.ToString("R", c)}\n");
        // An empty "parameters:" is a YAML null, which the recipe reader rejects (e.g. ties with no weight or density).
        yaml.Append(parameters.Length == 0 ? "parameters: {}\n" : "parameters:\n" + parameters);
        if (merge.Dtype is { } dtype) yaml.Append(c, $"dtype: {Quote(dtype)}\n");
        return yaml.ToString();
    }

    private static string FromRecipeFile(string file, string pivot, IReadOnlyDictionary<string, string> targets)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(file)));
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new MergeRecipeException($"recipe {file} must be a YAML mapping (merge_method, models, parameters, ...)");
        root.Children[new YamlScalarNode("base_model")] = new YamlScalarNode(pivot);
        var problems = new List<string>();
        if (root.Children.TryGetValue(new YamlScalarNode("models"), out var modelsNode) && modelsNode is YamlSequenceNode models)
        {
            foreach (var item in models.Children.OfType<YamlMappingNode>())
            {
                if (!item.Children.TryGetValue(new YamlScalarNode("model"), out var nameNode) || nameNode is not YamlScalarNode { Value: { } name }) continue;
                if (name == RunSpecValidator.PivotName) item.Children[new YamlScalarNode("model")] = new YamlScalarNode(pivot);
                else if (targets.TryGetValue(name, out var target)) item.Children[new YamlScalarNode("model")] = new YamlScalarNode(target);
                else problems.Add($"recipe model '{name}' is neither a source of the run ({string.Join(", ", targets.Keys)}) nor '{RunSpecValidator.PivotName}'");
            }
        }
        else
        {
            var list = new YamlSequenceNode();
            foreach (var target in targets.Values) list.Add(new YamlMappingNode(new YamlScalarNode("model"), new YamlScalarNode(target)));
            root.Children[new YamlScalarNode("models")] = list;
        }

        if (problems.Count > 0) throw new MergeRecipeException(problems);
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    private static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
}
