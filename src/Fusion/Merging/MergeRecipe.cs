using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// A merge recipe in mergekit's YAML format:
/// <code>
/// merge_method: sce
/// base_model: openchat/openchat_3.5
/// models:
///   - model: path/to/target
///     parameters: {weight: 0.2, density: 0.6}
/// parameters: {select_topk: 0.1, normalize: true, int8_mask: true}
/// dtype: bfloat16
/// tokenizer_source: base
/// </code>
/// Recipe-wide <c>weight</c> and <c>density</c> under <c>parameters</c> are defaults for the models.
/// Beyond mergekit, <c>parameters.sce_variant</c> (paper | upstream) picks the SCE variant and
/// <c>parameters.seed</c> seeds DARE. Per-layer gradients, filters and <c>slices</c> are not supported.
/// </summary>
public sealed class MergeRecipe
{
    internal MergeRecipe(string mergeMethod, string? baseModel, IReadOnlyList<MergeRecipeModel> models, MergeParameters parameters,
        SceVariant sceVariant, DType? dtype, string? tokenizerSource)
    {
        MergeMethod = mergeMethod;
        BaseModel = baseModel;
        Models = models;
        Parameters = parameters;
        SceVariant = sceVariant;
        DType = dtype;
        TokenizerSource = tokenizerSource;
    }

    /// <summary>The canonical method name (see <see cref="MergeMethods.Names"/>).</summary>
    public string MergeMethod { get; }

    /// <summary>The pivot (base_model); null only for linear, which does not need one.</summary>
    public string? BaseModel { get; }

    /// <summary>The models as listed, possibly including the base model.</summary>
    public IReadOnlyList<MergeRecipeModel> Models { get; }

    /// <summary>
    /// The models whose tensors go to <see cref="IMergeMethod.Merge"/>: for methods that work on deltas, an
    /// entry naming the base model is left out (its delta is zero and, as in mergekit, it is not a target);
    /// linear mixes every listed model.
    /// </summary>
    public IReadOnlyList<MergeRecipeModel> Targets =>
        MergeMethods.NeedsBaseModel(MergeMethod) ? Models.Where(m => m.Model != BaseModel).ToList() : Models;

    /// <summary>Method-wide parameters.</summary>
    public MergeParameters Parameters { get; }

    /// <summary>Which SCE variant to run (parameters.sce_variant; the paper's by default).</summary>
    public SceVariant SceVariant { get; }

    /// <summary>The output dtype, or null to keep the base model's.</summary>
    public DType? DType { get; }

    /// <summary>mergekit's tokenizer_source (base, union, model:...), or null.</summary>
    public string? TokenizerSource { get; }

    /// <summary>Parses and validates a recipe; throws <see cref="MergeRecipeException"/> listing every problem.</summary>
    public static MergeRecipe Parse(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        return MergeRecipeReader.Read(yaml);
    }

    /// <summary>Reads, parses and validates a recipe file.</summary>
    public static MergeRecipe Load(string path) => Parse(File.ReadAllText(path));
}
