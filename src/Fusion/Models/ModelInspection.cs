using System.Globalization;
using System.Text.Json;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Planning;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tokenization;

namespace FuseChat.Fusion.Models;

/// <summary>
/// What FuseChat makes of a Hugging Face model folder, without loading its weights: the family and shape it reads
/// from config.json, how its positions rotate and where it attends, the checkpoint's files against the tensors that
/// family needs, and the tokenizer and chat format beside them. <see cref="Problems"/> lists what would stop a run
/// that uses the folder; empty means ready. `fusechat inspect` prints it.
/// </summary>
/// <param name="Folder">The model folder, full path.</param>
/// <param name="DeclaredClass">The class config.json names (e.g. Gemma3ForConditionalGeneration, read as its language model).</param>
/// <param name="Config">The config as read (for a multimodal Gemma 3, its language model's).</param>
/// <param name="Parameters">Parameters of the decoder the config describes.</param>
/// <param name="Rotation">How positions rotate: base, scaling, the sliding layers' own base, the rotated width.</param>
/// <param name="Attention">Heads, key/value heads, head width, score scale and caps, and the window's layers.</param>
/// <param name="Mlp">The MLP: its width and activation, or a mixture's experts, their routing and which layers have them.</param>
/// <param name="CheckpointFiles">Safetensors files of the weights (0 when there are none).</param>
/// <param name="CheckpointBytes">Their size on disk.</param>
/// <param name="Tensors">Tensors the checkpoint holds (a multimodal one: its language model's).</param>
/// <param name="LanguageModelPrefix">Where a multimodal checkpoint's language model lies; null for a text checkpoint.</param>
/// <param name="TokenizerSize">Tokens of tokenizer.json (added ones included); null without a usable tokenizer.</param>
/// <param name="Template">The chat format detected from the tokenizer; null when none is recognised.</param>
/// <param name="Problems">What would stop a run: missing or misshaped tensors, no weights, no usable tokenizer, a tokenizer larger than the vocabulary.</param>
public sealed record ModelInspection(
    string Folder,
    string DeclaredClass,
    ModelConfig Config,
    long Parameters,
    string Rotation,
    string Attention,
    string Mlp,
    int CheckpointFiles,
    long CheckpointBytes,
    int Tensors,
    string? LanguageModelPrefix,
    int? TokenizerSize,
    string? Template,
    IReadOnlyList<string> Problems)
{
    /// <summary>True when nothing in the folder would stop a run.</summary>
    public bool Ready => Problems.Count == 0;

    /// <summary>Inspects <paramref name="folder"/>.</summary>
    /// <param name="folder">A Hugging Face model folder.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="CheckpointFormatException">config.json is missing, malformed or of an unsupported family (nothing else can be said then).</exception>
    public static ModelInspection Of(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full)) throw new DirectoryNotFoundException($"model folder {full} does not exist");
        var configPath = Path.Combine(full, ModelConfig.FileName);
        if (!File.Exists(configPath))
            throw new CheckpointFormatException($"Model folder '{full}' has no {ModelConfig.FileName}.") { FilePath = configPath };
        var config = ModelConfig.Load(configPath);
        var problems = new List<string>();

        var (files, bytes, tensors, prefix) = (0, 0L, 0, (string?)null);
        try
        {
            using var reader = CheckpointReader.Open(full);
            files = reader.ShardFiles.Count;
            bytes = reader.ShardFiles.Sum(f => new FileInfo(Path.Combine(full, f)).Length);
            tensors = reader.TensorNames.Count;
            prefix = reader.LanguageModelPrefix;
            problems.AddRange(ModelTensorLayout.For(config).FindProblems(reader));
        }
        catch (CheckpointFormatException e)
        {
            problems.Add(e.Message);
        }

        int? tokenizerSize = null;
        string? template = null;
        try
        {
            var tokenizer = HfTokenizer.Load(full);
            tokenizerSize = tokenizer.Count;
            template = ChatTemplates.Detect(tokenizer)?.Name;
            if (tokenizer.Count > config.VocabSize)
                problems.Add($"the tokenizer has {tokenizer.Count} tokens but the embedding only {config.VocabSize} rows: ids past the last row have no embedding");
        }
        catch (TokenizerLoadException e)
        {
            problems.Add($"no usable tokenizer: {e.Message}");
        }

        var decoder = DecoderConfig.From(config);
        return new ModelInspection(full, DeclaredClassOf(configPath) ?? config.ArchitectureName, config, ResourceEstimate.Parameters(config),
            RotationOf(config, decoder), AttentionOf(config, decoder), MlpOf(decoder), files, bytes, tensors, prefix, tokenizerSize, template, problems);
    }

    private static string? DeclaredClassOf(string configPath)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(configPath), new JsonDocumentOptions { AllowTrailingCommas = true });
        return document.RootElement.TryGetProperty("architectures", out var list) && list.ValueKind == JsonValueKind.Array
            && list.GetArrayLength() > 0 && list[0].ValueKind == JsonValueKind.String ? list[0].GetString() : null;
    }

    private static string RotationOf(ModelConfig config, DecoderConfig decoder)
    {
        var parts = new List<string> { Format($"theta {config.RopeTheta:G}") };
        parts.Add(config.RopeScaling switch
        {
            null => "unscaled",
            { Type: "linear" } r => Format($"linear scaling x{r.Factor:G}"),
            { Type: "llama3" } r => Format($"llama3 scaling x{r.Factor:G} (original context {r.OriginalMaxPositionEmbeddings})"),
            { Type: "yarn" } r => Format($"yarn scaling x{r.Factor:G} (original context {r.OriginalMaxPositionEmbeddings}, cos/sin x{r.AttentionScaling:0.####})"),
            { Type: "longrope" } r => Format($"longrope: short factors up to {r.OriginalMaxPositionEmbeddings} positions, long ones past it, cos/sin x{r.AttentionScaling:0.####}"),
            var r => r.Type,
        });
        if (config.LocalRopeTheta is { } local) parts.Add(Format($"sliding layers theta {local:G}, unscaled"));
        var plain = Enumerable.Range(0, decoder.Layers).Count(i => !decoder.Rotates(i));
        if (plain > 0) parts.Add(Format($"no rotary positions in {plain} of {decoder.Layers} layers"));
        if (decoder.InterleavedRotary) parts.Add("neighbouring dimensions paired (GLM's interleaved layout)");
        if (decoder.EffectiveRotaryDim != decoder.EffectiveHeadDim) parts.Add(Format($"{decoder.EffectiveRotaryDim} of {decoder.EffectiveHeadDim} dims rotated"));
        parts.Add(Format($"up to {config.MaxPositionEmbeddings} positions"));
        return string.Join("; ", parts);
    }

    private static string AttentionOf(ModelConfig config, DecoderConfig decoder)
    {
        var parts = new List<string> { Format($"{decoder.Heads} heads, {decoder.EffectiveKeyValueHeads} key/value heads, width {decoder.EffectiveHeadDim}") };
        if (config.QueryPreAttnScalar is { } scalar) parts.Add(Format($"scores scaled by {scalar}^-0.5"));
        if (decoder.QueryKeyNorm) parts.Add("query/key norms");
        if (decoder.OutputNormsOnly) parts.Add("query/key norms over the whole projections, norms on each sublayer's output only");
        if (decoder.AttentionSoftcap is { } cap) parts.Add(Format($"scores capped at {cap:G} (eager attention)"));
        if (decoder.FinalSoftcap is { } final) parts.Add(Format($"logits capped at {final:G}"));
        var sliding = Enumerable.Range(0, decoder.Layers).Count(decoder.Slides);
        parts.Add(sliding == 0 ? "full attention in every layer" : Format($"window {decoder.SlidingWindow} in {sliding} of {decoder.Layers} layers"));
        return string.Join("; ", parts);
    }

    /// <summary>The MLP: dense (width, activation), or sparse (experts, routing, widths, and which layers have them).</summary>
    private static string MlpOf(DecoderConfig decoder)
    {
        var activation = decoder.Activation == MlpActivation.GeluTanh ? "GeGLU" : "SwiGLU";
        if (!decoder.IsMixtureOfExperts) return Format($"dense {activation}, width {decoder.IntermediateSize}");
        var text = Format($"{decoder.Experts} experts of width {decoder.EffectiveExpertIntermediateSize}, {decoder.ExpertsPerToken} per token");
        if (!decoder.NormalizeTopK) text += " (weights not renormalised)";
        if (decoder.SharedExpertIntermediateSize > 0) text += Format($", a shared expert of width {decoder.SharedExpertIntermediateSize}");
        var sparse = Enumerable.Range(0, decoder.Layers).Count(decoder.IsSparse);
        return sparse == decoder.Layers ? text : text + Format($", in {sparse} of {decoder.Layers} layers (the others dense, width {decoder.IntermediateSize})");
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
