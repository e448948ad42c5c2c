using System.Globalization;
using FuseChat.Fusion.Merging;
using FuseChat.Grains.Storage;
using FuseChat.Fusion.Templates;
using FuseChat.Torch;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FuseChat.Grains.Runs;

/// <summary>
/// Reads a run spec and lists every problem at once, so a user fixes a spec in one pass:
/// <code>
/// name: demo
/// pivot: {path: models/openchat, template: openchat_3.5}
/// sources:
///   - {name: mixtral, path: models/mixtral}
/// data: {train: chats.jsonl, eval_chats: held-out.jsonl, eval_tasks: tasks.jsonl}
/// representation: {top_k: 10, max_batch_tokens: 4096, shard_size: 1000, dtype: bf16}
/// alignment: {threads: -1, parallel_shards: 4}
/// training: {lr: 5.0e-6, epochs: 3, accumulation: 128, lambda: 0.9, warmup: 0.03, checkpoint_every: 100, dtype: bf16, gradient_checkpointing: true, optimizer_offload: false}
/// merge: {method: sce, select_topk: 0.1, ranges: 4, parallel_ranges: 2}     # or {recipe: recipe.yaml, ranges: 4}
/// output: {folder: out}
/// </code>
/// Paths are relative to the spec's folder. A model path may also be <c>artifact:PREFIX</c>: a Hugging Face
/// folder stored in the silos' artifact store (blob container) under PREFIX/, which every worker that needs it
/// pulls into the run's "work/artifacts/PREFIX" (see <see cref="ArtifactModelPrefixes"/>); a data file may be
/// <c>artifact:KEY</c>, a file in that store, pulled likewise into "work/artifacts/KEY" (see <see cref="ArtifactDataKeys"/>).
/// Other URIs are rejected.
/// </summary>
public static class RunSpecValidator
{
    /// <summary>The model name the pivot gets in folders, keys and reports; no source may take it.</summary>
    public const string PivotName = "pivot";

    /// <summary>The scheme of model paths in the artifact store: <c>artifact:models/openchat-3.5</c>.</summary>
    public const string ArtifactScheme = "artifact:";

    /// <summary>The artifact-store keys of the spec's data files given as <c>artifact:KEY</c> (their local copies lie under work/artifacts).</summary>
    /// <param name="spec">A validated spec.</param>
    public static IReadOnlyList<string> ArtifactDataKeys(RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return [.. InputArtifactKeys(spec, new[] { spec.Data.Train, spec.Data.EvalChats, spec.Data.EvalTasks }.OfType<string>()).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The artifact-store prefixes of the spec's models given as <c>artifact:PREFIX</c> (their local folders lie under work/artifacts).</summary>
    /// <param name="spec">A validated spec.</param>
    public static IReadOnlyList<string> ArtifactModelPrefixes(RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return [.. InputArtifactKeys(spec, new[] { spec.Pivot.Path }.Concat(spec.Sources.Select(s => s.Path)))];
    }

    /// <summary>The store keys of those <paramref name="paths"/> that are local copies under the run's work/artifacts.</summary>
    private static IEnumerable<string> InputArtifactKeys(RunSpec spec, IEnumerable<string> paths)
    {
        var root = Path.Combine(spec.OutputFolder, "work", "artifacts") + Path.DirectorySeparatorChar;
        return paths.Where(p => p.StartsWith(root, StringComparison.Ordinal)).Select(p => p[root.Length..].Replace(Path.DirectorySeparatorChar, '/'));
    }

    private static readonly Dictionary<string, string[]> Sections = new(StringComparer.Ordinal)
    {
        [""] = ["name", "pivot", "sources", "data", "representation", "alignment", "training", "merge", "output"],
        ["pivot"] = ["path", "template"],
        ["data"] = ["train", "eval_chats", "eval_tasks"],
        ["representation"] = ["top_k", "max_batch_tokens", "shard_size", "dtype"],
        ["alignment"] = ["threads", "parallel_shards"],
        ["training"] = ["lr", "epochs", "accumulation", "lambda", "warmup", "checkpoint_every", "dtype", "gradient_checkpointing", "optimizer_offload"],
        ["merge"] = ["method", "select_topk", "sce_variant", "weight", "density", "dtype", "recipe", "ranges", "parallel_ranges", "shard_bytes"],
        ["output"] = ["folder"],
    };

    /// <summary>Parses and checks <paramref name="yaml"/>; relative paths are resolved against <paramref name="specDirectory"/>.</summary>
    /// <param name="yaml">The spec text.</param>
    /// <param name="specDirectory">The spec file's folder.</param>
    /// <returns>The spec, or every problem found.</returns>
    public static RunSpecValidation Validate(string yaml, string specDirectory)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(specDirectory);
        var reader = new Reader(Path.GetFullPath(specDirectory));
        var spec = reader.Read(yaml);
        return reader.Problems.Count == 0 ? new RunSpecValidation(spec, []) : new RunSpecValidation(null, reader.Problems);
    }

    /// <summary>True for "scheme://..." paths (blob URIs, https), which runs do not read yet.</summary>
    internal static bool IsUri(string path) => path.Contains("://", StringComparison.Ordinal);

    private sealed class Reader(string directory)
    {
        public List<string> Problems { get; } = [];

        public RunSpec? Read(string yaml)
        {
            YamlMappingNode root;
            try
            {
                var stream = new YamlStream();
                stream.Load(new StringReader(yaml));
                if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
                {
                    Problems.Add("the spec must be a YAML mapping (name, pivot, sources, data, output, ...)");
                    return null;
                }

                root = mapping;
            }
            catch (YamlException e)
            {
                Problems.Add($"not valid YAML at line {e.Start.Line}: {e.Message}");
                return null;
            }

            CheckKeys(root, "");
            var name = RequiredString(root, "name", "name");
            if (name is not null) CheckName(name, "name");

            var pivotNode = Section(root, "pivot", required: true);
            var pivotPath = pivotNode is null ? null : ModelFolder(pivotNode, "pivot.path");
            var template = pivotNode is null ? null : RequiredString(pivotNode, "template", "pivot.template");
            if (template is not null && !ChatTemplates.Names.Contains(template, StringComparer.Ordinal))
                Problems.Add($"pivot.template: unknown template '{template}' (known: {string.Join(", ", ChatTemplates.Names)})");

            var sources = ReadSources(root);

            var dataNode = Section(root, "data", required: true);
            var train = dataNode is null ? null : ExistingFile(dataNode, "train", "data.train", required: true);
            var evalChats = dataNode is null ? null : ExistingFile(dataNode, "eval_chats", "data.eval_chats", required: false);
            var evalTasks = dataNode is null ? null : ExistingFile(dataNode, "eval_tasks", "data.eval_tasks", required: false);

            var rep = Section(root, "representation", required: false);
            var defaults = new RepresentationSpec();
            var representation = new RepresentationSpec
            {
                TopK = Int(rep, "top_k", "representation.top_k", defaults.TopK, 1, 1000),
                MaxBatchTokens = Int(rep, "max_batch_tokens", "representation.max_batch_tokens", defaults.MaxBatchTokens, 1, int.MaxValue),
                ShardSize = Int(rep, "shard_size", "representation.shard_size", defaults.ShardSize, 1, int.MaxValue),
                Dtype = Dtype(rep, "representation.dtype", defaults.Dtype),
            };

            var ali = Section(root, "alignment", required: false);
            var threads = Int(ali, "threads", "alignment.threads", -1, -1, 4096);
            if (threads == 0) Problems.Add("alignment.threads: 0 is not a thread count (use -1 for all cores)");
            var parallelShards = Int(ali, "parallel_shards", "alignment.parallel_shards", SourceAlignmentGrain.DefaultParallelShards, 1, 4096);

            var tr = Section(root, "training", required: false);
            var td = new TrainingSpec();
            var training = new TrainingSpec
            {
                LearningRate = Double(tr, "lr", "training.lr", td.LearningRate, 0, 1, minExclusive: true),
                Epochs = Int(tr, "epochs", "training.epochs", td.Epochs, 1, 10_000),
                Accumulation = Int(tr, "accumulation", "training.accumulation", td.Accumulation, 1, 1_000_000),
                Lambda = Double(tr, "lambda", "training.lambda", td.Lambda, 0, 1),
                Warmup = Double(tr, "warmup", "training.warmup", td.Warmup, 0, 1),
                CheckpointEvery = Int(tr, "checkpoint_every", "training.checkpoint_every", td.CheckpointEvery, 0, int.MaxValue),
                Dtype = Dtype(tr, "training.dtype", td.Dtype),
                GradientCheckpointing = Bool(tr, "gradient_checkpointing", "training.gradient_checkpointing", td.GradientCheckpointing),
                OptimizerOffload = Bool(tr, "optimizer_offload", "training.optimizer_offload", td.OptimizerOffload),
            };

            var merge = ReadMerge(root);

            var outputNode = Section(root, "output", required: true);
            var outputText = outputNode is null ? null : RequiredString(outputNode, "folder", "output.folder");
            string? output = null;
            if (outputText is not null)
            {
                if (IsUri(outputText)) Problems.Add($"output.folder: '{outputText}' is a URI; blob outputs are not supported yet, give a local folder");
                else output = Path.GetFullPath(Path.Combine(directory, outputText));
            }

            if (Problems.Count > 0 || name is null || pivotPath is null || template is null || train is null || output is null)
                return null;
            // artifact:PREFIX models and artifact:KEY data files live in the run's work/artifacts, where the workers pull them.
            string Local(string path) => path.StartsWith(ArtifactScheme, StringComparison.Ordinal)
                ? Path.Combine(output, "work", "artifacts", path[ArtifactScheme.Length..].Replace('/', Path.DirectorySeparatorChar))
                : path;
            var spec = new RunSpec
            {
                Name = name,
                Pivot = new PivotSpec(Local(pivotPath), template),
                Sources = [.. sources.Select(source => source with { Path = Local(source.Path) })],
                Data = new DataSpec(Local(train), evalChats is null ? null : Local(evalChats), evalTasks is null ? null : Local(evalTasks)),
                Representation = representation,
                Alignment = new AlignmentSpec { Threads = threads, ParallelShards = parallelShards },
                Training = training,
                Merge = merge,
                OutputFolder = output,
            };

            // The recipe is checked as the merge stage will see it, so its problems show up before any work.
            try
            {
                MergeRecipe.Parse(RunPlan.MergeRecipeYaml(spec));
            }
            catch (MergeRecipeException e)
            {
                Problems.AddRange(e.Problems.Select(p => $"merge: {p}"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or YamlException or ArgumentException)
            {
                Problems.Add($"merge.recipe: {e.Message}");
            }

            return Problems.Count == 0 ? spec : null;
        }

        private List<SourceSpec> ReadSources(YamlMappingNode root)
        {
            var result = new List<SourceSpec>();
            if (!root.Children.TryGetValue(new YamlScalarNode("sources"), out var node))
            {
                Problems.Add("sources: missing (list at least one {name, path})");
                return result;
            }

            if (node is not YamlSequenceNode list || list.Children.Count == 0)
            {
                Problems.Add("sources: must be a non-empty list of {name, path}");
                return result;
            }

            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < list.Children.Count; i++)
            {
                var where = $"sources[{i}]";
                if (list.Children[i] is not YamlMappingNode item)
                {
                    Problems.Add($"{where}: must be a mapping with name and path");
                    continue;
                }

                foreach (var key in item.Children.Keys)
                {
                    var k = (key as YamlScalarNode)?.Value ?? "?";
                    if (k is not ("name" or "path")) Problems.Add($"{where}: unknown key '{k}' (known: name, path)");
                }

                var name = RequiredString(item, "name", $"{where}.name");
                if (name is not null)
                {
                    CheckName(name, $"{where}.name");
                    if (name.Equals(PivotName, StringComparison.OrdinalIgnoreCase)) Problems.Add($"{where}.name: '{name}' is reserved for the pivot");
                    else if (!seen.Add(name)) Problems.Add($"{where}.name: duplicate source name '{name}'");
                }

                var path = ModelFolder(item, $"{where}.path");
                if (name is not null && path is not null) result.Add(new SourceSpec(name, path));
            }

            return result;
        }

        private MergeSpec ReadMerge(YamlMappingNode root)
        {
            var node = Section(root, "merge", required: false);
            var defaults = new MergeSpec();
            if (node is null) return defaults;
            // How the merge is split applies to recipes and method settings alike.
            defaults = defaults with
            {
                Ranges = Int(node, "ranges", "merge.ranges", defaults.Ranges, 1, 1024),
                ParallelRanges = Int(node, "parallel_ranges", "merge.parallel_ranges", defaults.ParallelRanges, 1, 1024),
                ShardBytes = (long)Double(node, "shard_bytes", "merge.shard_bytes", defaults.ShardBytes, 1, 1e13),
            };
            var recipeText = OptionalString(node, "recipe", "merge.recipe");
            if (recipeText is not null)
            {
                var others = node.Children.Keys.Select(k => (k as YamlScalarNode)?.Value).Where(k => k is not null and not "recipe" and not "ranges" and not "parallel_ranges" and not "shard_bytes").ToList();
                if (others.Count > 0) Problems.Add($"merge: give either recipe or method settings, not both (also given: {string.Join(", ", others)})");
                var recipe = Path.GetFullPath(Path.Combine(directory, recipeText));
                if (IsUri(recipeText)) Problems.Add($"merge.recipe: '{recipeText}' is a URI; blob paths are not supported yet");
                else if (!File.Exists(recipe)) Problems.Add($"merge.recipe: file {recipe} does not exist");
                return defaults with { RecipeFile = recipe };
            }

            var method = OptionalString(node, "method", "merge.method") ?? defaults.Method;
            var canonical = MergeMethods.Canonical(method);
            if (canonical is null) Problems.Add($"merge.method: unknown method '{method}' (known: {string.Join(", ", MergeMethods.Names)})");
            var dtype = OptionalString(node, "dtype", "merge.dtype");
            if (dtype is not null && !IsFloatDtype(dtype)) Problems.Add($"merge.dtype: '{dtype}' is not a floating-point dtype (float32, bfloat16, float16)");
            return defaults with
            {
                Method = canonical ?? method,
                SelectTopK = Double(node, "select_topk", "merge.select_topk", defaults.SelectTopK, 0, 1, minExclusive: true),
                SceVariant = OptionalString(node, "sce_variant", "merge.sce_variant"),
                Weight = node.Children.ContainsKey(new YamlScalarNode("weight")) ? Double(node, "weight", "merge.weight", 0, double.MinValue, double.MaxValue) : null,
                Density = node.Children.ContainsKey(new YamlScalarNode("density")) ? Double(node, "density", "merge.density", 1, 0, 1, minExclusive: true) : null,
                Dtype = dtype,
            };
        }

        private void CheckKeys(YamlMappingNode node, string section)
        {
            var known = Sections[section];
            foreach (var key in node.Children.Keys)
            {
                var k = (key as YamlScalarNode)?.Value ?? "?";
                if (!known.Contains(k, StringComparer.Ordinal))
                    Problems.Add($"{(section.Length == 0 ? "" : section + ": ")}unknown key '{k}' (known: {string.Join(", ", known)})");
            }
        }

        private void CheckName(string name, string where)
        {
            if (name.Length == 0 || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') || name.StartsWith('.'))
                Problems.Add($"{where}: '{name}' must be 1 to 64 letters, digits, '.', '_' or '-' (it names folders and grain keys)");
        }

        private YamlMappingNode? Section(YamlMappingNode root, string key, bool required)
        {
            if (!root.Children.TryGetValue(new YamlScalarNode(key), out var node))
            {
                if (required) Problems.Add($"{key}: missing");
                return null;
            }

            if (node is not YamlMappingNode mapping)
            {
                Problems.Add($"{key}: must be a mapping");
                return null;
            }

            CheckKeys(mapping, key);
            return mapping;
        }

        private string? OptionalString(YamlMappingNode node, string key, string where)
        {
            if (!node.Children.TryGetValue(new YamlScalarNode(key), out var value)) return null;
            if (value is YamlScalarNode { Value: { } text } && !string.IsNullOrWhiteSpace(text)) return text.Trim();
            Problems.Add($"{where}: must be a non-empty text");
            return null;
        }

        private string? RequiredString(YamlMappingNode node, string key, string where)
        {
            if (!node.Children.ContainsKey(new YamlScalarNode(key)))
            {
                Problems.Add($"{where}: missing");
                return null;
            }

            return OptionalString(node, key, where);
        }

        private string? ModelFolder(YamlMappingNode node, string where)
        {
            var text = RequiredString(node, "path", where);
            if (text is null) return null;
            if (text.StartsWith(ArtifactScheme, StringComparison.Ordinal)) return ArtifactReference(text, where);

            if (IsUri(text))
            {
                Problems.Add($"{where}: '{text}' is a URI; give a local folder, or artifact:PREFIX for a model folder uploaded to the artifact container");
                return null;
            }

            var path = Path.GetFullPath(Path.Combine(directory, text));
            if (!Directory.Exists(path)) Problems.Add($"{where}: folder {path} does not exist");
            else if (!File.Exists(Path.Combine(path, "config.json"))) Problems.Add($"{where}: {path} is not a Hugging Face model folder (no config.json)");
            return path;
        }

        /// <summary>
        /// "artifact:KEY" with KEY checked and stripped of outer '/'; null (and a problem) when KEY is unusable. Whether
        /// the store holds it is checked when the run starts, where the store is at hand.
        /// </summary>
        private string? ArtifactReference(string text, string where)
        {
            var key = text[ArtifactScheme.Length..].Trim('/');
            try
            {
                ArtifactPaths.Validate(key);
                return ArtifactScheme + key;
            }
            catch (ArgumentException e)
            {
                Problems.Add($"{where}: '{text}' is not a usable artifact key: {e.Message}");
                return null;
            }
        }

        private string? ExistingFile(YamlMappingNode node, string key, string where, bool required)
        {
            var text = required ? RequiredString(node, key, where) : OptionalString(node, key, where);
            if (text is null) return null;
            if (text.StartsWith(ArtifactScheme, StringComparison.Ordinal)) return ArtifactReference(text, where);

            if (IsUri(text))
            {
                Problems.Add($"{where}: '{text}' is a URI; give a local file, or artifact:KEY for a file uploaded to the artifact container");
                return null;
            }

            var path = Path.GetFullPath(Path.Combine(directory, text));
            if (!File.Exists(path)) Problems.Add($"{where}: file {path} does not exist");
            return path;
        }

        private int Int(YamlMappingNode? node, string key, string where, int fallback, int min, int max)
        {
            if (node is null || !node.Children.TryGetValue(new YamlScalarNode(key), out var value)) return fallback;
            if (value is not YamlScalarNode { Value: { } text } || !int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result))
            {
                Problems.Add($"{where}: expected a whole number, got '{(value as YamlScalarNode)?.Value ?? value.NodeType.ToString()}'");
                return fallback;
            }

            if (result < min || result > max) Problems.Add($"{where}: {result} is out of range [{min}, {(max == int.MaxValue ? "..." : max.ToString(CultureInfo.InvariantCulture))}]");
            return result;
        }

        private bool Bool(YamlMappingNode? node, string key, string where, bool fallback)
        {
            if (node is null || !node.Children.TryGetValue(new YamlScalarNode(key), out var value)) return fallback;
            switch ((value as YamlScalarNode)?.Value?.Trim())
            {
                case "true" or "True" or "TRUE" or "yes" or "on": return true;
                case "false" or "False" or "FALSE" or "no" or "off": return false;
                default:
                    Problems.Add($"{where}: expected true or false, got '{(value as YamlScalarNode)?.Value ?? value.NodeType.ToString()}'");
                    return fallback;
            }
        }

        private double Double(YamlMappingNode? node, string key, string where, double fallback, double min, double max, bool minExclusive = false)
        {
            if (node is null || !node.Children.TryGetValue(new YamlScalarNode(key), out var value)) return fallback;
            if (value is not YamlScalarNode { Value: { } text } || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var result) || !double.IsFinite(result))
            {
                Problems.Add($"{where}: expected a number, got '{(value as YamlScalarNode)?.Value ?? value.NodeType.ToString()}'");
                return fallback;
            }

            if (result < min || result > max || (minExclusive && result == min))
                Problems.Add($"{where}: {result.ToString(CultureInfo.InvariantCulture)} is out of range {(minExclusive ? "(" : "[")}{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]");
            return result;
        }

        private string Dtype(YamlMappingNode? node, string where, string fallback)
        {
            var text = node is null ? null : OptionalString(node, "dtype", where);
            if (text is null) return fallback;
            if (!IsFloatDtype(text))
            {
                Problems.Add($"{where}: '{text}' is not a floating-point dtype (f32, bf16, f16)");
                return fallback;
            }

            return DTypeExtensions.Parse(text).ShortName();
        }

        private static bool IsFloatDtype(string text)
        {
            try
            {
                return DTypeExtensions.Parse(text) is DType.Float32 or DType.BFloat16 or DType.Float16;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
    }
}
