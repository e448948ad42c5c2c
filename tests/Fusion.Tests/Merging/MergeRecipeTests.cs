using FuseChat.Fusion.Merging;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Merging;

public class MergeRecipeTests
{
    [Fact]
    public void ParsesTheFuseChat7BSceRecipe()
    {
        // FuseChat-7B-v2.0: the five pairwise-fused targets merged into OpenChat-3.5 with SCE, tau = 0.1 (paper).
        var recipe = MergeRecipe.Parse("""
            models:
              - model: FuseAI/OpenChat-3.5-7B-Mixtral
              - model: FuseAI/OpenChat-3.5-7B-InternLM
              - model: FuseAI/OpenChat-3.5-7B-Qwen
              - model: FuseAI/OpenChat-3.5-7B-SOLAR
              - model: FuseAI/OpenChat-3.5-7B-Starling
            merge_method: sce
            base_model: openchat/openchat_3.5
            parameters:
              select_topk: 0.1
            dtype: bfloat16
            """);
        Assert.Equal("sce", recipe.MergeMethod);
        Assert.Equal("openchat/openchat_3.5", recipe.BaseModel);
        Assert.Equal(5, recipe.Targets.Count);
        Assert.Equal("FuseAI/OpenChat-3.5-7B-Qwen", recipe.Targets[2].Model);
        Assert.Equal(0.1, recipe.Parameters.SelectTopK);
        Assert.Equal(DType.BFloat16, recipe.DType);
        Assert.Null(recipe.TokenizerSource);
        Assert.Equal(SceVariant.Paper, recipe.SceVariant);
        var method = Assert.IsType<SceMerge>(MergeMethods.Create(recipe));
        Assert.Equal(SceVariant.Paper, method.Variant);
    }

    [Fact]
    public void ParsesATiesBaselineWithTheBaseAmongTheModels()
    {
        // The paper's TIES baseline: density 0.6, weight 0.2, normalize. mergekit recipes often list the base
        // model without parameters; it is not a target.
        var recipe = MergeRecipe.Parse("""
            merge_method: ties
            base_model: openchat/openchat_3.5
            models:
              - model: openchat/openchat_3.5
              - model: targets/mixtral
                parameters: {weight: 0.2, density: 0.6}
              - model: targets/qwen
                parameters:
                  weight: 0.2
                  density: 0.6
            parameters:
              normalize: true
              int8_mask: true
            dtype: float16
            tokenizer_source: base
            """);
        Assert.Equal(3, recipe.Models.Count);
        Assert.Equal(["targets/mixtral", "targets/qwen"], recipe.Targets.Select(m => m.Model));
        Assert.All(recipe.Targets, m => Assert.Equal(new ModelMergeParameters(0.2, 0.6), m.Parameters));
        Assert.True(recipe.Parameters.Normalize);
        Assert.True(recipe.Parameters.Int8Mask);
        Assert.Equal(DType.Float16, recipe.DType);
        Assert.Equal("base", recipe.TokenizerSource);
        Assert.IsType<TiesMerge>(MergeMethods.Create(recipe));
    }

    [Fact]
    public void RecipeWideWeightAndDensityAreDefaultsForTheModels()
    {
        var recipe = MergeRecipe.Parse("""
            merge_method: dare_ties
            base_model: base
            models:
              - model: a
              - model: b
                parameters: {density: 0.9}
            parameters: {weight: 0.2, density: 0.6, seed: 123, rescale: false, lambda: 1.5}
            """);
        Assert.Equal(new ModelMergeParameters(0.2, 0.6), recipe.Targets[0].Parameters);
        Assert.Equal(new ModelMergeParameters(0.2, 0.9), recipe.Targets[1].Parameters);
        Assert.Equal(123UL, recipe.Parameters.Seed);
        Assert.False(recipe.Parameters.Rescale);
        Assert.Equal(1.5, recipe.Parameters.Lambda);
        Assert.Null(recipe.DType);
        var dare = Assert.IsType<DareMerge>(MergeMethods.Create(recipe));
        Assert.True(dare.SignConsensus);
    }

    [Theory]
    [InlineData("sce", typeof(SceMerge))]
    [InlineData("varm", typeof(VarmMerge))]
    [InlineData("fusechat_varm", typeof(VarmMerge))]
    [InlineData("linear", typeof(LinearMerge))]
    [InlineData("task_arithmetic", typeof(TaskArithmeticMerge))]
    [InlineData("ties", typeof(TiesMerge))]
    [InlineData("dare_linear", typeof(DareMerge))]
    [InlineData("dare_ties", typeof(DareMerge))]
    public void EveryMethodNameCreatesItsMethod(string name, Type type)
    {
        var recipe = MergeRecipe.Parse($"merge_method: {name}\nbase_model: base\nmodels:\n  - model: a\n  - model: b\n");
        var method = MergeMethods.Create(recipe);
        Assert.IsType(type, method);
        Assert.Equal(recipe.MergeMethod, method.Name);
    }

    [Fact]
    public void SceVariantAndLinearWithoutBaseModel()
    {
        var upstream = MergeRecipe.Parse("merge_method: sce\nbase_model: p\nmodels: [{model: a}, {model: b}]\nparameters: {sce_variant: upstream}\n");
        Assert.Equal(SceVariant.Upstream, Assert.IsType<SceMerge>(MergeMethods.Create(upstream)).Variant);
        var linear = MergeRecipe.Parse("merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 0.5}\n  - model: b\n    parameters: {weight: 0.5}\n");
        Assert.Null(linear.BaseModel);
        Assert.Equal(2, linear.Targets.Count);
    }

    [Fact]
    public void ListsEveryProblemOfARecipeAtOnce()
    {
        var e = Assert.Throws<MergeRecipeException>(() => MergeRecipe.Parse("""
            merge_method: sce
            models: []
            parameters:
              select_topk: 1.5
              select_top_k: 0.1
            dtype: int4
            """));
        Assert.Equal(5, e.Problems.Count);
        Assert.Contains("base_model is missing", e.Message);
        Assert.Contains("models is empty", e.Message);
        Assert.Contains("select_topk = 1.5 is out of range", e.Message);
        Assert.Contains("unknown parameter 'select_top_k'", e.Message);
        Assert.DoesNotContain("unknown dtype", e.Problems[0]);
        Assert.Contains(e.Problems, p => p.Contains("unknown dtype 'int4'", StringComparison.Ordinal));
    }

    [Fact]
    public void ListsModelProblemsWithTheirPlace()
    {
        var e = Assert.Throws<MergeRecipeException>(() => MergeRecipe.Parse("""
            merge_method: slerpy
            base_model: base
            models:
              - model: a
                parameters: {weight: -0.5, density: 0}
              - model: a
                parameters: {density: 1.5}
              - parameters: {weight: 1}
              - model: c
                parameters: {weight: [0, 0.5, 1]}
            """));
        Assert.Contains("unknown merge_method 'slerpy'", e.Message);
        Assert.Contains("models[0] (a).weight = -0.5 is out of range", e.Message);
        Assert.Contains("models[0] (a).density = 0 is out of range (0, 1]", e.Message);
        Assert.Contains("models[1] (a): duplicate model 'a'", e.Message);
        Assert.Contains("models[1] (a).density = 1.5 is out of range", e.Message);
        Assert.Contains("models[2]: 'model' is missing", e.Message);
        Assert.Contains("gradients and filters are not supported", e.Message);
        Assert.Equal(7, e.Problems.Count);
        Assert.All(e.Problems, p => Assert.StartsWith("line ", p));
    }

    [Fact]
    public void RejectsMissingModelsAndBrokenYaml()
    {
        var missing = Assert.Throws<MergeRecipeException>(() => MergeRecipe.Parse("merge_method: ties\nbase_model: b\n"));
        Assert.Contains("models is missing", Assert.Single(missing.Problems));
        var onlyBase = Assert.Throws<MergeRecipeException>(() => MergeRecipe.Parse("merge_method: ties\nbase_model: b\nmodels: [{model: b}]\n"));
        Assert.Contains("only the base model", Assert.Single(onlyBase.Problems));
        var emptyBase = Assert.Throws<MergeRecipeException>(() => MergeRecipe.Parse("merge_method: sce\nbase_model: ''\nmodels: [{model: a}]\n"));
        Assert.Contains("base_model is empty", Assert.Single(emptyBase.Problems));
        var broken = Assert.Throws<MergeRecipeException>(() => MergeRecipe.Parse("merge_method: [sce\nmodels: {"));
        Assert.Contains("not valid YAML", Assert.Single(broken.Problems));
        var duplicateKey = Assert.Throws<MergeRecipeException>(() => MergeRecipe.Parse("merge_method: ties\nmerge_method: sce\n"));
        Assert.Contains("not valid YAML", Assert.Single(duplicateKey.Problems));
        var notMapping = Assert.Throws<MergeRecipeException>(() => MergeRecipe.Parse("- sce\n"));
        Assert.Contains("must be a YAML mapping", notMapping.Message);
        var slices = Assert.Throws<MergeRecipeException>(() => MergeRecipe.Parse("merge_method: linear\nslices: []\nmodels: [{model: a}]\n"));
        Assert.Contains("slices are not supported", Assert.Single(slices.Problems));
    }
}
