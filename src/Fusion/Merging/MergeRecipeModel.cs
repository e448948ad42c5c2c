namespace FuseChat.Fusion.Merging;

/// <summary>One entry of a recipe's <c>models:</c> list.</summary>
/// <param name="Model">The model's path or Hugging Face id, as written in the recipe.</param>
/// <param name="Parameters">Its parameters, with the recipe-wide defaults already applied.</param>
public sealed record MergeRecipeModel(string Model, ModelMergeParameters Parameters);
