using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// One way of merging the same parameter tensor of several models into one (mergekit's merge methods).
/// Implementations compute in float32 whatever the input dtype is and return a new float32 tensor of the
/// pivot's shape; the caller casts it to the output dtype. They neither dispose nor modify their inputs.
/// </summary>
public interface IMergeMethod
{
    /// <summary>The recipe name of the method, e.g. "sce".</summary>
    string Name { get; }

    /// <summary>
    /// Merges one tensor.
    /// </summary>
    /// <param name="tensorName">The checkpoint name of the tensor (Hugging Face naming); used for the
    /// vocabulary-row rule on embed_tokens/lm_head and in error messages.</param>
    /// <param name="pivot">The base model's tensor (theta_pivot); it fixes the output shape.</param>
    /// <param name="models">The tensors of the models being merged (the targets), in recipe order.</param>
    /// <param name="perModel">Per-model parameters, one per entry of <paramref name="models"/>.</param>
    /// <param name="global">Method-wide parameters.</param>
    /// <returns>A new float32 tensor shaped like <paramref name="pivot"/>, owned by the caller's scope.</returns>
    Tensor Merge(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global);

    /// <summary>
    /// Merges one tensor using the inputs as working memory: the streaming merger's form, whose working set
    /// is the n + 1 inputs plus at most one tensor-sized scratch (deltas are computed in the models' storage,
    /// the result is written into the pivot's). Gives the same values as <see cref="Merge"/>.
    /// </summary>
    /// <param name="tensorName">As for <see cref="Merge"/>.</param>
    /// <param name="pivot">The base model's tensor as contiguous float32; overwritten, and returned, with the result.</param>
    /// <param name="models">The models' tensors as contiguous float32 in the pivot's shape (extra vocabulary rows
    /// already dropped); their contents are undefined afterwards. The caller still owns and disposes them.</param>
    /// <param name="perModel">Per-model parameters, one per entry of <paramref name="models"/>.</param>
    /// <param name="global">Method-wide parameters.</param>
    /// <returns><paramref name="pivot"/>, now holding the merged tensor.</returns>
    Tensor MergeInPlace(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global);
}
