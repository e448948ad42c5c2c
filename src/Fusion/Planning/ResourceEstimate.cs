using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
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
    /// Bytes a training step holds on its device before activations: parameters and gradients in
    /// <paramref name="dtype"/>, and, unless the optimiser state is <paramref name="offloaded"/> to host memory, AdamW's
    /// two fp32 moments and fp32 master weights when <paramref name="dtype"/> is narrower than fp32.
    /// </summary>
    public static long TrainingStateBytes(long parameters, DType dtype, bool offloaded = false)
    {
        var width = ElementBytes(dtype);
        return offloaded ? parameters * 2 * width : parameters * (2 * width + 8 + (width < 4 ? 4 : 0));
    }

    /// <summary>Host bytes of an offloaded optimiser state: an fp32 master of every parameter and AdamW's two fp32 moments.</summary>
    public static long OffloadedStateBytes(long parameters) => parameters * 12;

    /// <summary>
    /// About the bytes of activations a training step on one sequence of <paramref name="tokens"/> tokens holds between
    /// its forward and backward pass, on a GPU with fused attention (no [heads, length, length] score matrix). Per token
    /// and decoder layer, the tensors autograd saves in our layer: the two norms' input, scaled input and output
    /// (6 x hidden), attention's q, k, v and output and the output projection's input (3 x hidden + 2 x key-value
    /// width), and the gated MLP's gate, up, activated gate and product (4 x intermediate; in a sparse layer 4 x the
    /// expert width, times the experts a token is routed to, plus Qwen2-MoE's shared expert). Gemma2 and GLM-4 add two norms (6 x hidden) and, since no fused kernel caps scores, its
    /// eager attention keeps per head and query the capped scores and the probabilities in the weights' dtype and the
    /// fp32 softmax output, a term that grows with the square of the length. With <paramref name="checkpointing"/>
    /// the layers keep only their input (hidden) and one layer's tensors exist at a time. The output head and the loss
    /// run over chunks of positions (<see cref="LlamaModel.HeadChunk"/>): per position of one chunk
    /// the final norm (3 x hidden), the logits in <paramref name="dtype"/> (twice with a logit cap) and about 20 bytes
    /// per logit of fp32 copies and gradients in the loss's backward pass, plus the gradient of the last layer's
    /// output at every position (hidden). On an H100 (docs/gpu.md) this came within 3% of the measured peak of a
    /// fusion-trainer step at a 128256 vocabulary, in chunks and (with one chunk of all positions) whole.
    /// </summary>
    public static long ActivationBytes(ModelConfig config, long tokens, DType dtype, bool checkpointing)
    {
        var decoder = DecoderConfig.From(config);
        var width = ElementBytes(dtype);
        long hidden = decoder.HiddenSize;
        long keyValue = (long)decoder.EffectiveKeyValueHeads * decoder.EffectiveHeadDim;
        var norms = decoder.GemmaNorms || decoder.GlmNorms ? 12 * hidden : 6 * hidden;
        var scores = decoder.AttentionSoftcap is null ? 0 : decoder.Heads * tokens * (2 * width + 4);
        var perLayer = Enumerable.Range(0, decoder.Layers).Select(i => (norms + 3 * hidden + 2 * keyValue + MlpWidth(decoder, i)) * width + scores).ToList();
        var layers = checkpointing ? decoder.Layers * hidden * width + perLayer.Max() : perLayer.Sum();
        long vocabulary = decoder.VocabSize;
        var logits = vocabulary * width * (decoder.FinalSoftcap is null ? 1 : 2);
        var headRows = Math.Min(tokens, LlamaModel.HeadChunk(decoder.VocabSize));
        return tokens * (layers + hidden * width) + headRows * (3 * hidden * width + logits + 20 * vocabulary);
    }

    /// <summary>
    /// The MLP's saved width per token in layer <paramref name="layer"/>: 4 x intermediate for a dense MLP, 4 x the
    /// expert width for each expert a token is routed to in a sparse one, plus Qwen2-MoE's shared expert.
    /// </summary>
    private static long MlpWidth(DecoderConfig decoder, int layer) => decoder.IsSparse(layer)
        ? 4L * decoder.EffectiveExpertIntermediateSize * decoder.ExpertsPerToken + 4L * decoder.SharedExpertIntermediateSize
        : 4L * decoder.IntermediateSize;

    /// <summary>
    /// Bytes of one training checkpoint: the weights in <paramref name="dtype"/>, AdamW's moments and its fp32 masters,
    /// which exist for weights narrower than fp32 and, with the optimiser state <paramref name="offloaded"/>, for every
    /// weight (the offloaded state keeps its own copy, which the checkpoint saves).
    /// </summary>
    public static long CheckpointBytes(long parameters, DType dtype, bool offloaded = false)
    {
        var width = ElementBytes(dtype);
        return parameters * (width + 8 + (width < 4 || offloaded ? 4 : 0));
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
