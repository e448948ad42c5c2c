using FuseChat.Fusion.Checkpoints;
using FuseChat.Torch;

namespace FuseChat.Fusion.Planning;

/// <summary>
/// The arithmetic of what a fusion costs, from model shapes and token counts: floating-point operations (2 per
/// parameter and token forward, 6 with the backward pass), the memory a training step needs before activations,
/// and upper bounds of what the stages write. For planning a run before renting GPUs, not for accounting.
/// </summary>
public static class ResourceEstimate
{
    /// <summary>The model's parameter count, exactly, from the tensors its configuration implies.</summary>
    /// <param name="config">The model's config.json.</param>
    /// <returns>The number of parameters (tied embeddings counted once).</returns>
    public static long Parameters(ModelConfig config)
    {
        var (shared, experts) = Split(config);
        return shared + experts;
    }

    /// <summary>
    /// The parameters one token passes through: all of them, except in a mixture of experts, where each token uses
    /// only num_experts_per_tok of the num_local_experts experts of a layer. FLOPs follow from these.
    /// </summary>
    /// <param name="config">The model's config.json.</param>
    /// <returns>The parameters active per token.</returns>
    public static long ActiveParameters(ModelConfig config)
    {
        var (shared, experts) = Split(config);
        if (experts == 0) return shared;
        var perToken = config.NumExpertsPerTok ?? config.NumLocalExperts ?? 1;
        return shared + experts * perToken / (config.NumLocalExperts ?? perToken);
    }

    // The parameters every token uses, and those of the experts of a mixture (none in a dense model).
    private static (long Shared, long Experts) Split(ModelConfig config)
    {
        long shared = 0, experts = 0;
        foreach (var tensor in ModelTensorLayout.For(config).Tensors)
        {
            if (tensor.Name.Contains(".experts.", StringComparison.Ordinal)) experts += tensor.ElementCount;
            else shared += tensor.ElementCount;
        }

        return (shared, experts);
    }

    /// <summary>Operations of a forward pass over <paramref name="tokens"/> tokens: 2 per (active) parameter and token.</summary>
    public static double ForwardFlops(long parameters, long tokens) => 2.0 * parameters * tokens;

    /// <summary>Operations of training over <paramref name="tokens"/> tokens: forward and backward, 6 per (active) parameter and token.</summary>
    public static double TrainingFlops(long parameters, long tokens) => 6.0 * parameters * tokens;

    /// <summary>
    /// Bytes a training step holds before activations: parameters and gradients in <paramref name="dtype"/>, AdamW's
    /// two fp32 moments, and fp32 master weights when <paramref name="dtype"/> is narrower than fp32.
    /// </summary>
    public static long TrainingStateBytes(long parameters, DType dtype)
    {
        var width = ElementBytes(dtype);
        return parameters * (2 * width + 8 + (width < 4 ? 4 : 0));
    }

    /// <summary>Bytes of one training checkpoint: the weights in <paramref name="dtype"/>, AdamW's moments and any fp32 masters.</summary>
    public static long CheckpointBytes(long parameters, DType dtype)
    {
        var width = ElementBytes(dtype);
        return parameters * (width + 8 + (width < 4 ? 4 : 0));
    }

    /// <summary>
    /// Upper bound of the representation shards of a corpus before zstd: every token's id and trained flag, and at every
    /// trained position its index and the top-K ids (int32) and logits (fp16).
    /// </summary>
    public static long RepresentationBytesBound(long tokens, long trainedPositions, int topK) =>
        tokens * 4 + (tokens + 7) / 8 + trainedPositions * (4 + 6L * topK);

    private static long ElementBytes(DType dtype) => dtype.IsFloatingPoint()
        ? dtype.ElementSize()
        : throw new ArgumentException($"{dtype.ShortName()} is not a floating-point dtype for weights", nameof(dtype));
}
