using System.Globalization;
using FuseChat.Torch;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// Walks the YAML tree of a recipe and collects every problem before failing, so one run tells the user
/// all that is wrong with a recipe instead of one thing at a time.
/// </summary>
internal sealed class MergeRecipeReader
{
    private static readonly string[] TopLevelKeys = ["merge_method", "base_model", "models", "parameters", "dtype", "tokenizer_source", "name"];
    private static readonly string[] ParameterKeys = ["select_topk", "normalize", "int8_mask", "rescale", "lambda", "seed", "sce_variant", "weight", "density"];
    private static readonly string[] ModelParameterKeys = ["weight", "density"];

    private readonly List<string> problems = new();

    public static MergeRecipe Read(string yaml) => new MergeRecipeReader().ReadDocument(yaml);

    private MergeRecipe ReadDocument(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new MergeRecipeException($"not valid YAML at line {e.Start.Line}: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner fails this way (without a position) on some unterminated flow collections.
            throw new MergeRecipeException($"not valid YAML: {e.Message}", e);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new MergeRecipeException("the recipe must be a YAML mapping (merge_method, base_model, models, ...)");

        foreach (var key in root.Children.Keys)
        {
            var name = (key as YamlScalarNode)?.Value ?? "?";
            if (name == "slices") Problem(key, "slices are not supported: list whole models under models");
            else if (!TopLevelKeys.Contains(name)) Problem(key, $"unknown key '{name}' (known: {string.Join(", ", TopLevelKeys)})");
        }

        var method = ReadMethod(root);
        var baseModel = OptionalString(root, "base_model");
        if (!root.Children.ContainsKey(new YamlScalarNode("base_model")) && method is not null && MergeMethods.NeedsBaseModel(method))
            Problem(root, $"base_model is missing: {method} merges deltas from a base model");

        var (parameters, sceVariant, defaultWeight, defaultDensity) = ReadParameters(root);
        var models = ReadModels(root, method, baseModel, defaultWeight, defaultDensity);
        var dtype = ReadDType(root);
        var tokenizerSource = OptionalString(root, "tokenizer_source");

        if (problems.Count > 0) throw new MergeRecipeException(problems);
        return new MergeRecipe(method!, baseModel, models, parameters, sceVariant, dtype, tokenizerSource);
    }

    private string? ReadMethod(YamlMappingNode root)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode("merge_method"), out var node))
        {
            Problem(root, $"merge_method is missing (one of {string.Join(", ", MergeMethods.Names)})");
            return null;
        }
        var text = Scalar(node, "merge_method");
        if (text is null) return null;
        var canonical = MergeMethods.Canonical(text);
        if (canonical is null) Problem(node, $"unknown merge_method '{text}' (known: {string.Join(", ", MergeMethods.Names)}, fusechat_varm)");
        return canonical;
    }

    private (MergeParameters, SceVariant, double?, double?) ReadParameters(YamlMappingNode root)
    {
        var parameters = new MergeParameters();
        var variant = SceVariant.Paper;
        double? weight = null, density = null;
        if (!root.Children.TryGetValue(new YamlScalarNode("parameters"), out var node)) return (parameters, variant, weight, density);
        if (node is not YamlMappingNode map)
        {
            Problem(node, "parameters must be a mapping");
            return (parameters, variant, weight, density);
        }
        foreach (var (keyNode, value) in map.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "?";
            var where = $"parameters.{key}";
            switch (key)
            {
                case "select_topk":
                    if (Number(value, where) is { } tau)
                    {
                        if (tau is > 0 and <= 1) parameters = parameters with { SelectTopK = tau };
                        else Problem(value, $"{where} = {Format(tau)} is out of range (0, 1]");
                    }
                    break;
                case "normalize":
                    if (Bool(value, where) is { } normalize) parameters = parameters with { Normalize = normalize };
                    break;
                case "int8_mask":
                    if (Bool(value, where) is { } int8) parameters = parameters with { Int8Mask = int8 };
                    break;
                case "rescale":
                    if (Bool(value, where) is { } rescale) parameters = parameters with { Rescale = rescale };
                    break;
                case "lambda":
                    if (Number(value, where) is { } lambda) parameters = parameters with { Lambda = lambda };
                    break;
                case "seed":
                    var seedText = Scalar(value, where);
                    if (seedText is not null)
                    {
                        if (ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out var seed)) parameters = parameters with { Seed = seed };
                        else Problem(value, $"{where} = '{seedText}' is not a non-negative integer");
                    }
                    break;
                case "sce_variant":
                    var variantText = Scalar(value, where);
                    if (variantText is not null)
                    {
                        if (variantText.Equals("paper", StringComparison.OrdinalIgnoreCase)) variant = SceVariant.Paper;
                        else if (variantText.Equals("upstream", StringComparison.OrdinalIgnoreCase)) variant = SceVariant.Upstream;
                        else Problem(value, $"{where} = '{variantText}' is not one of paper, upstream");
                    }
                    break;
                case "weight":
                    weight = Weight(value, where);
                    break;
                case "density":
                    density = Density(value, where);
                    break;
                default:
                    Problem(keyNode, $"unknown parameter '{key}' (known: {string.Join(", ", ParameterKeys)})");
                    break;
            }
        }
        return (parameters, variant, weight, density);
    }

    private List<MergeRecipeModel> ReadModels(YamlMappingNode root, string? method, string? baseModel, double? defaultWeight, double? defaultDensity)
    {
        var models = new List<MergeRecipeModel>();
        if (!root.Children.TryGetValue(new YamlScalarNode("models"), out var node))
        {
            Problem(root, "models is missing: list the models to merge");
            return models;
        }
        if (node is not YamlSequenceNode list)
        {
            // An empty "models:" is a null scalar.
            if (node is YamlScalarNode { Value: null or "" or "~" or "null" }) Problem(node, "models is empty: list the models to merge");
            else Problem(node, "models must be a list of {model: ..., parameters: ...}");
            return models;
        }
        if (list.Children.Count == 0)
        {
            Problem(node, "models is empty: list the models to merge");
            return models;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Children.Count; i++)
        {
            var entry = list.Children[i];
            var where = $"models[{i}]";
            if (entry is not YamlMappingNode map)
            {
                Problem(entry, $"{where} must be a mapping with a 'model' key");
                continue;
            }
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? "?";
                if (name is not ("model" or "parameters")) Problem(key, $"{where}: unknown key '{name}' (known: model, parameters)");
            }
            string? path = null;
            if (map.Children.TryGetValue(new YamlScalarNode("model"), out var modelNode)) path = Scalar(modelNode, $"{where}.model");
            else Problem(map, $"{where}: 'model' is missing");
            if (path is not null && string.IsNullOrWhiteSpace(path))
            {
                Problem(modelNode!, $"{where}.model is empty");
                path = null;
            }
            if (path is not null)
            {
                where = $"{where} ({path})";
                if (!seen.Add(path)) Problem(modelNode!, $"{where}: duplicate model '{path}'");
            }

            var weight = defaultWeight ?? 1.0;
            var density = defaultDensity ?? 1.0;
            if (map.Children.TryGetValue(new YamlScalarNode("parameters"), out var parametersNode))
            {
                if (parametersNode is YamlMappingNode parameters)
                {
                    foreach (var (keyNode, value) in parameters.Children)
                    {
                        var key = (keyNode as YamlScalarNode)?.Value ?? "?";
                        if (key == "weight") weight = Weight(value, $"{where}.weight") ?? weight;
                        else if (key == "density") density = Density(value, $"{where}.density") ?? density;
                        else Problem(keyNode, $"{where}: unknown parameter '{key}' (known: {string.Join(", ", ModelParameterKeys)})");
                    }
                }
                else if (parametersNode is not YamlScalarNode { Value: null or "" or "~" or "null" })
                {
                    Problem(parametersNode, $"{where}.parameters must be a mapping");
                }
            }
            if (path is not null) models.Add(new MergeRecipeModel(path, new ModelMergeParameters(weight, density)));
        }

        if (method is not null && baseModel is not null && MergeMethods.NeedsBaseModel(method)
            && models.Count > 0 && models.All(m => m.Model == baseModel))
            Problem(node, $"models names only the base model '{baseModel}': there is nothing to merge into it");
        return models;
    }

    private DType? ReadDType(YamlMappingNode root)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode("dtype"), out var node)) return null;
        var text = Scalar(node, "dtype");
        if (text is null) return null;
        try
        {
            var dtype = DTypeExtensions.Parse(text);
            if (dtype.IsFloatingPoint()) return dtype;
        }
        catch (ArgumentException)
        {
            // Reported below with the accepted names.
        }
        Problem(node, $"unknown dtype '{text}' (expected float32, float16 or bfloat16)");
        return null;
    }

    private string? OptionalString(YamlMappingNode root, string key)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode(key), out var node)) return null;
        var text = Scalar(node, key);
        if (text is null) return null;
        if (string.IsNullOrWhiteSpace(text))
        {
            Problem(node, $"{key} is empty");
            return null;
        }
        return text;
    }

    private double? Weight(YamlNode node, string where)
    {
        var w = Number(node, where);
        if (w is null) return null;
        if (w.Value >= 0) return w;
        Problem(node, $"{where} = {Format(w.Value)} is out of range [0, inf)");
        return null;
    }

    private double? Density(YamlNode node, string where)
    {
        var d = Number(node, where);
        if (d is null) return null;
        if (d.Value is > 0 and <= 1) return d;
        Problem(node, $"{where} = {Format(d.Value)} is out of range (0, 1]");
        return null;
    }

    private double? Number(YamlNode node, string where)
    {
        var text = Scalar(node, where);
        if (text is null) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)) return value;
        Problem(node, $"{where} = '{text}' is not a finite number");
        return null;
    }

    private bool? Bool(YamlNode node, string where)
    {
        var text = Scalar(node, where);
        if (text is null) return null;
        switch (text.ToLowerInvariant())
        {
            case "true" or "yes" or "on": return true;
            case "false" or "no" or "off": return false;
            default:
                Problem(node, $"{where} = '{text}' is not true or false");
                return null;
        }
    }

    private string? Scalar(YamlNode node, string where)
    {
        if (node is YamlScalarNode scalar && scalar.Value is not null) return scalar.Value;
        Problem(node, node is YamlScalarNode
            ? $"{where} has no value"
            : $"{where} must be a single value (per-layer gradients and filters are not supported)");
        return null;
    }

    private void Problem(YamlNode node, string message) => problems.Add($"line {node.Start.Line}: {message}");

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
