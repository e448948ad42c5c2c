using FuseChat.Fusion.Templates;
using FuseChat.Torch;
using FuseChat.Torch.Nn;

namespace FuseChat.Fusion.Models;

/// <summary>
/// A Llama-family decoder-only transformer — Llama, Mistral (sliding window), Qwen2 (q/k/v biases, tied embeddings),
/// Qwen3 (per-head query/key norms), Mixtral, Qwen2-MoE and Qwen3-MoE (top-k routed experts; Qwen2-MoE's shared
/// expert), Gemma2 (scaled embeddings, sandwich norms, GeGLU, soft-capped scores and logits, alternating windows),
/// Gemma3 (Gemma2 with query/key norms and a rotary base of its own for the sliding layers), Phi3 (fused projections,
/// partial rotary positions, LongRoPE), SmolLM3 (layers without rotary positions), OLMo 2 and 3 (norms on the
/// sublayers' outputs only, query/key norms over the whole projections), EXAONE 4 (output norms, per-head query/key
/// norms, global layers without rotary positions), GLM-4 (sandwich norms, interleaved partial rotary positions) and
/// ERNIE 4.5 (interleaved rotation in fp32): token embedding,
/// N pre-norm layers of grouped-query self-attention with rotary positions and a gated MLP, a final RMSNorm and
/// the output projection. Parameter names match Hugging Face checkpoints (model.layers.0.self_attn.q_proj.weight, ...).
/// </summary>
public sealed class LlamaModel : Module
{
    private readonly LlamaBackbone backbone;
    private readonly Linear? lmHead;
    private readonly RotaryEmbedding rotary;
    private readonly RotaryEmbedding? localRotary;

    /// <summary>Creates a randomly initialised model (Normal(0, 0.02) weights, unit norms).</summary>
    public LlamaModel(DecoderConfig config, DType dtype = DType.Float32, Device? device = null)
    {
        config.Validate();
        Config = config;
        backbone = RegisterModule("model", new LlamaBackbone(config, dtype, device));
        if (!config.TieEmbeddings)
            lmHead = RegisterModule("lm_head", new Linear(config.HiddenSize, config.VocabSize, dtype: dtype, device: device));
        rotary = new RotaryEmbedding(config.EffectiveRotaryDim, config.RopeTheta, config.RopeScaling, config.MaxPositions);
        if (config.LocalRopeTheta is { } local) localRotary = new RotaryEmbedding(config.EffectiveRotaryDim, local);
    }

    /// <summary>The model's shape.</summary>
    public DecoderConfig Config { get; }

    /// <summary>
    /// Where the weights are (all of them are on one device): inputs built for this model go there, since on a GPU
    /// silo the weights are on cuda and a CPU index tensor would be refused.
    /// </summary>
    public Device Device => NamedParameters().First().Tensor.Device;

    /// <summary>The weights' element type.</summary>
    public DType DType => NamedParameters().First().Tensor.DType;

    /// <summary>
    /// Next-token logits [batch, length, vocab] for token ids [batch, length] (int64). With a
    /// <paramref name="cache"/>, the ids continue the cached positions and the cache is extended.
    /// </summary>
    public Tensor Forward(Tensor ids, KeyValueCache? cache = null)
    {
        using var scope = DisposeScope.Open();
        return Head(Body(ids, cache)).MoveToOuterScope();
    }

    /// <summary>
    /// <see cref="Forward"/> without the output head: the last decoder layer's output [batch, length, hidden], for a
    /// caller that applies <see cref="Head"/> itself (the fusion loss does, a chunk of positions at a time).
    /// </summary>
    internal Tensor Body(Tensor ids, KeyValueCache? cache = null)
    {
        using var scope = DisposeScope.Open();
        var length = ids.Size(1);
        var offset = cache?.Length ?? 0;
        var h = Embed(ids);
        var positions = Positions(offset, length, h);
        for (var i = 0; i < backbone.Layers.Count; i++)
        {
            // A scope per layer: without history (Stage 1, evaluation) a layer's intermediates are garbage once it
            // returns, and held to the end of the pass they would add up over all layers; with history autograd
            // keeps what the backward pass needs by itself.
            using var layerScope = DisposeScope.Open();
            h = Layer(i, h, positions, cache).MoveToOuterScope();
        }
        cache?.Advance(length);
        return h.MoveToOuterScope();
    }

    /// <summary>
    /// A training forward pass that keeps only each decoder layer's input and recomputes the layer in the backward
    /// pass (activation checkpointing; Hugging Face's gradient_checkpointing): the activations held between forward
    /// and backward shrink from every layer's intermediates to one [batch, length, hidden] tensor per layer, for
    /// one more forward pass of the layers. Back-propagate through <see cref="CheckpointedForward.Backward"/>, not
    /// through the loss itself.
    /// </summary>
    public CheckpointedForward ForwardCheckpointed(Tensor ids) => new(this, ids);

    /// <summary>
    /// <see cref="ForwardCheckpointed(Tensor)"/> without the output head: the caller applies <see cref="Head"/> to
    /// <see cref="CheckpointedForward.Hidden"/> and back-propagates with <see cref="CheckpointedForward.BackwardFromHidden"/>.
    /// </summary>
    internal CheckpointedForward ForwardCheckpointedHeadless(Tensor ids) => new(this, ids, withLogits: false);

    /// <summary>The decoder layers.</summary>
    internal int LayerCount => backbone.Layers.Count;

    /// <summary>Token embeddings [batch, length, hidden].</summary>
    internal Tensor Embed(Tensor ids)
    {
        var embedded = backbone.EmbedTokens.Forward(ids);
        if (!Config.GemmaNorms) return embedded;
        // Gemma multiplies by sqrt(hidden) rounded to the weights' dtype (55.5, not 55.43, for 3072 in bf16), as
        // transformers does; a double scalar would be applied unrounded.
        using var scale = Tensor.Scalar(Math.Sqrt(Config.HiddenSize), embedded.DType, embedded.Device);
        return embedded * scale;
    }

    /// <summary>The rotary tables and the sliding-window mask for positions [offset, offset + length).</summary>
    internal LayerPositions Positions(long offset, long length, Tensor like)
    {
        var tables = Config.RotaryInFloat32 ? DType.Float32 : like.DType;
        var (cos, sin) = rotary.Get(offset, length, tables, like.Device);
        if (localRotary is null) return new LayerPositions(cos, sin, AttentionMask(offset, length, like.Device));
        var (localCos, localSin) = localRotary.Get(offset, length, tables, like.Device);
        return new LayerPositions(cos, sin, AttentionMask(offset, length, like.Device), localCos, localSin);
    }

    /// <summary>Decoder layer <paramref name="index"/> applied to <paramref name="h"/>.</summary>
    internal Tensor Layer(int index, Tensor h, LayerPositions positions, KeyValueCache? cache = null)
    {
        var slides = Config.Slides(index);
        var (cos, sin) = slides && positions.LocalCos is { } localCos ? (localCos, positions.LocalSin!) : (positions.Cos, positions.Sin);
        return backbone.Layers[index].Forward(h, cos, sin, slides ? positions.Mask : null, cache, index);
    }

    /// <summary>
    /// Positions whose logits to compute at a time where a pass needs them at some positions only (Stage 1's trained
    /// positions, the fusion loss's): about 2^26 logits (256 MiB per fp32 copy), i.e. 2048 positions at a 32k
    /// vocabulary, 512 at 128k and 256 at 256k, so that no [batch tokens, vocabulary] tensor exists.
    /// </summary>
    public static int HeadChunk(int vocabulary) => Math.Max(16, (1 << 26) / Math.Max(vocabulary, 1));

    /// <summary>
    /// Final norm and output projection: logits [..., vocab] for hidden states [..., hidden], soft-capped where the model
    /// says so. Every position is its own: the head may be applied to any subset of them.
    /// </summary>
    internal Tensor Head(Tensor h)
    {
        var normed = backbone.Norm.Forward(h);
        var logits = lmHead is null ? Functional.Linear(normed, backbone.EmbedTokens.Weight) : lmHead.Forward(normed);
        return Config.FinalSoftcap is { } cap ? SoftCap(logits, cap) : logits;
    }

    /// <summary>cap * tanh(x / cap): Gemma2's bound on attention scores and logits, in x's dtype as transformers computes it.</summary>
    internal static Tensor SoftCap(Tensor x, double cap)
    {
        using var scaled = x / cap;
        using var bounded = scaled.Tanh();
        return bounded * cap;
    }

    /// <summary>
    /// Mean next-token cross entropy: position t predicts labels[t+1] (labels default to the ids);
    /// labels of -100 are ignored (masked user turns, padding).
    /// </summary>
    public Tensor Loss(Tensor ids, Tensor? labels = null)
    {
        using var scope = DisposeScope.Open();
        return NextTokenLoss(Forward(ids), labels ?? ids).MoveToOuterScope();
    }

    /// <summary>
    /// Mean next-token cross entropy of <paramref name="logits"/> [batch, length, vocab]: position t predicts
    /// labels[t+1]; labels of -100 are ignored. <see cref="Loss"/> with the logits already computed (e.g. by
    /// <see cref="ForwardCheckpointed"/>).
    /// </summary>
    public static Tensor NextTokenLoss(Tensor logits, Tensor labels)
    {
        using var scope = DisposeScope.Open();
        var length = labels.Size(1);
        var predicted = logits.Narrow(1, 0, length - 1).Reshape(-1, logits.Size(2));
        var next = labels.Narrow(1, 1, length - 1).Reshape(-1);
        return Functional.CrossEntropy(predicted, next, ignoreIndex: NextTokenLabels.Ignore).MoveToOuterScope();
    }

    /// <summary>
    /// Boolean mask [length, offset + length] for a sliding window (true = may attend); null means
    /// plain causal attention, which the attention kernel applies itself.
    /// </summary>
    private Tensor? AttentionMask(long offset, long length, Device device)
    {
        var window = Config.SlidingWindow;
        if (window <= 0 || offset + length <= window) return null;
        using var queries = Tensor.Arange(offset, offset + length, device: device).Unsqueeze(1);
        using var keys = Tensor.Arange(0, offset + length, device: device).Unsqueeze(0);
        using var distance = queries - keys;
        using var notFuture = distance.Ge(0);
        using var inWindow = distance.Lt(window);
        return notFuture.LogicalAnd(inWindow);
    }

    /// <inheritdoc/>
    protected override void ReleaseResources()
    {
        rotary.Dispose();
        localRotary?.Dispose();
    }
}

/// <summary>Embedding, layers and final norm: the "model." prefix of Hugging Face names.</summary>
internal sealed class LlamaBackbone : Module
{
    public LlamaBackbone(DecoderConfig config, DType dtype, Device? device)
    {
        EmbedTokens = RegisterModule("embed_tokens", new Embedding(config.VocabSize, config.HiddenSize, dtype: dtype, device: device, paddingIndex: config.PaddingIndex));
        Layers = Enumerable.Range(0, config.Layers)
            .Select(i => RegisterModule($"layers.{i}", new LlamaDecoderLayer(config, i, dtype, device)))
            .ToArray();
        Norm = RegisterModule("norm", new DecoderNorm(config.HiddenSize, config, dtype, device));
    }

    public Embedding EmbedTokens { get; }
    public IReadOnlyList<LlamaDecoderLayer> Layers { get; }
    public DecoderNorm Norm { get; }
}

/// <summary>
/// RMSNorm as the family stores it: x / rms(x) * w (Llama: normalised in fp32, rounded, then scaled); with
/// <see cref="DecoderConfig.GemmaNorms"/> x / rms(x) * (1 + w), all in fp32 before rounding (Gemma); with
/// <see cref="DecoderConfig.NormScaleInFloat32"/> x / rms(x) * w, all in fp32 before rounding (OLMo 2).
/// </summary>
internal sealed class DecoderNorm : Module
{
    private readonly double eps;
    private readonly bool unitOffset, scaleInFloat32;

    public DecoderNorm(long dim, DecoderConfig config, DType dtype, Device? device)
    {
        eps = config.RmsNormEps;
        unitOffset = config.GemmaNorms;
        scaleInFloat32 = config.GemmaNorms || config.NormScaleInFloat32;
        Weight = RegisterParameter("weight", unitOffset ? Tensor.Zeros([dim], dtype, device) : Tensor.Ones([dim], dtype, device));
    }

    public Tensor Weight { get; }

    public Tensor Forward(Tensor x)
    {
        if (!scaleInFloat32) return Functional.RmsNorm(x, Weight, eps);
        using var scope = DisposeScope.Open();
        var wide = x.To(DType.Float32);
        var normed = wide * (wide.Square().Mean(-1, keepDim: true) + eps).Rsqrt();
        var scale = unitOffset ? Weight.To(DType.Float32) + 1 : Weight.To(DType.Float32);
        return (normed * scale).To(x.DType).MoveToOuterScope();
    }
}

/// <summary>
/// h + attn(norm(h)), then h + mlp(norm(h)); Gemma also norms each sublayer's output before the add, and OLMo 2 norms
/// only the outputs: h + norm(attn(h)), then h + norm(mlp(h)).
/// </summary>
internal sealed class LlamaDecoderLayer : Module
{
    private readonly DecoderNorm? inputNorm;
    private readonly LlamaAttention attention;
    private readonly DecoderNorm postAttentionNorm;
    private readonly DecoderNorm? preFeedForwardNorm, postFeedForwardNorm;
    private readonly LlamaMlp? mlp;
    private readonly MixtureOfExperts? experts;

    public LlamaDecoderLayer(DecoderConfig config, int index, DType dtype, Device? device)
    {
        if (!config.OutputNormsOnly)
            inputNorm = RegisterModule("input_layernorm", new DecoderNorm(config.HiddenSize, config, dtype, device));
        attention = RegisterModule("self_attn", new LlamaAttention(config, config.Rotates(index), dtype, device));
        // GLM-4 runs Gemma's sandwich under its own names: its post_attention_layernorm is the MLP's input norm.
        var glm = config.GlmNorms;
        postAttentionNorm = RegisterModule(glm ? "post_self_attn_layernorm" : "post_attention_layernorm", new DecoderNorm(config.HiddenSize, config, dtype, device));
        if (config.GemmaNorms || glm)
            preFeedForwardNorm = RegisterModule(glm ? "post_attention_layernorm" : "pre_feedforward_layernorm", new DecoderNorm(config.HiddenSize, config, dtype, device));
        if (config.GemmaNorms || config.OutputNormsOnly || glm)
            postFeedForwardNorm = RegisterModule(glm ? "post_mlp_layernorm" : "post_feedforward_layernorm", new DecoderNorm(config.HiddenSize, config, dtype, device));
        if (config.IsSparse(index))
            experts = RegisterModule(config.ExpertLayout == ExpertLayout.Mixtral ? "block_sparse_moe" : "mlp", new MixtureOfExperts(config, dtype, device));
        else
            mlp = RegisterModule("mlp", new LlamaMlp(config, config.IntermediateSize, dtype, device));
    }

    public Tensor Forward(Tensor h, Tensor cos, Tensor sin, Tensor? mask, KeyValueCache? cache, int index)
    {
        var attentionOutput = attention.Forward(inputNorm is null ? h : inputNorm.Forward(h), cos, sin, mask, cache, index);
        if (inputNorm is null)
        {
            // OLMo 2: each sublayer reads the residual stream as it is and its output is normed before the add.
            var attended = h + postAttentionNorm.Forward(attentionOutput);
            return attended + postFeedForwardNorm!.Forward(Mlp(attended));
        }

        if (postFeedForwardNorm is null)
        {
            // Llama: post_attention_layernorm is the MLP's input norm.
            var attended = h + attentionOutput;
            return attended + Mlp(postAttentionNorm.Forward(attended));
        }

        // Gemma and GLM-4: the attention's output is normed; the MLP has its own pre and post norms.
        var residual = h + postAttentionNorm.Forward(attentionOutput);
        return residual + postFeedForwardNorm.Forward(Mlp(preFeedForwardNorm!.Forward(residual)));
    }

    /// <summary>The layer's dense MLP or its mixture of experts.</summary>
    private Tensor Mlp(Tensor x) => experts is null ? mlp!.Forward(x) : experts.Forward(x);
}

/// <summary>Causal grouped-query self-attention with rotary positions.</summary>
internal sealed class LlamaAttention : Module
{
    private readonly Linear? q, k, v, qkv;
    private readonly Linear o;
    private readonly DecoderNorm? qNorm, kNorm;
    private readonly int heads, kvHeads, headDim, rotaryDim;
    private readonly double? scale, softcap;
    private readonly bool rotates, projectionNorms, interleaved, rotaryInFloat32;

    /// <param name="config">The model's shape.</param>
    /// <param name="rotates">Whether this layer applies rotary positions (SmolLM3's NoPE layers do not).</param>
    /// <param name="dtype">The weights' element type.</param>
    /// <param name="device">Where the weights live.</param>
    public LlamaAttention(DecoderConfig config, bool rotates, DType dtype, Device? device)
    {
        this.rotates = rotates;
        interleaved = config.InterleavedRotary;
        rotaryInFloat32 = config.RotaryInFloat32;
        heads = config.Heads;
        kvHeads = config.EffectiveKeyValueHeads;
        headDim = config.EffectiveHeadDim;
        rotaryDim = config.EffectiveRotaryDim;
        var bias = config.AttentionBias;
        if (config.FusedProjections)
        {
            qkv = RegisterModule("qkv_proj", new Linear(config.HiddenSize, (heads + 2 * kvHeads) * headDim, bias, dtype: dtype, device: device));
        }
        else
        {
            q = RegisterModule("q_proj", new Linear(config.HiddenSize, heads * headDim, bias, dtype: dtype, device: device));
            k = RegisterModule("k_proj", new Linear(config.HiddenSize, kvHeads * headDim, bias, dtype: dtype, device: device));
            v = RegisterModule("v_proj", new Linear(config.HiddenSize, kvHeads * headDim, bias, dtype: dtype, device: device));
        }
        o = RegisterModule("o_proj", new Linear(heads * headDim, config.HiddenSize, config.AttentionOutputBias, dtype: dtype, device: device));
        if (config.QueryKeyNorm)
        {
            qNorm = RegisterModule("q_norm", new DecoderNorm(headDim, config, dtype, device));
            kNorm = RegisterModule("k_norm", new DecoderNorm(headDim, config, dtype, device));
        }
        else if (config.OutputNormsOnly)
        {
            // OLMo 2 norms the whole projections.
            projectionNorms = true;
            qNorm = RegisterModule("q_norm", new DecoderNorm(heads * headDim, config, dtype, device));
            kNorm = RegisterModule("k_norm", new DecoderNorm(kvHeads * headDim, config, dtype, device));
        }
        scale = config.AttentionScale;
        softcap = config.AttentionSoftcap;
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KeyValueCache? cache, int layer)
    {
        var batch = x.Size(0);
        var length = x.Size(1);
        // [batch, length, heads * dim] -> [batch, heads, length, dim]; Qwen3 norms each head before the rotation.
        var (queries, keys, values) = Project(x);
        if (projectionNorms) (queries, keys) = (qNorm!.Forward(queries), kNorm!.Forward(keys));
        queries = queries.Reshape(batch, length, heads, headDim);
        keys = keys.Reshape(batch, length, kvHeads, headDim);
        if (qNorm is not null && !projectionNorms) (queries, keys) = (qNorm.Forward(queries), kNorm!.Forward(keys));
        queries = queries.Transpose(1, 2);
        keys = keys.Transpose(1, 2);
        if (rotates) (queries, keys) = (Rotate(queries, cos, sin), Rotate(keys, cos, sin));
        values = values.Reshape(batch, length, kvHeads, headDim).Transpose(1, 2);
        if (cache is not null) (keys, values) = cache.Append(layer, keys, values);
        if (kvHeads != heads)
        {
            // Each key/value head serves heads / kvHeads consecutive query heads (Hugging Face's repeat_kv).
            keys = keys.RepeatInterleave(heads / kvHeads, 1);
            values = values.RepeatInterleave(heads / kvHeads, 1);
        }
        var attended = softcap is { } cap ? SoftCappedAttention(queries, keys, values, mask, cap)
            : mask is null ? Functional.ScaledDotProductAttention(queries, keys, values, isCausal: true, scale: scale)
            : Functional.ScaledDotProductAttention(queries, keys, values, mask, scale: scale);
        return o.Forward(attended.Transpose(1, 2).Reshape(batch, length, heads * headDim));
    }

    /// <summary>Queries, keys and values [batch, length, heads * dim], from three projections or Phi3's one.</summary>
    private (Tensor Queries, Tensor Keys, Tensor Values) Project(Tensor x)
    {
        if (qkv is null) return (q!.Forward(x), k!.Forward(x), v!.Forward(x));
        var all = qkv.Forward(x);
        return (all.Narrow(-1, 0, heads * headDim), all.Narrow(-1, heads * headDim, kvHeads * headDim),
            all.Narrow(-1, (heads + kvHeads) * headDim, kvHeads * headDim));
    }

    /// <summary>Rotary positions on the first <see cref="DecoderConfig.EffectiveRotaryDim"/> of each head; the rest passes.</summary>
    private Tensor Rotate(Tensor x, Tensor cos, Tensor sin)
    {
        // ERNIE 4.5 rotates in fp32 and rounds after; its tables are fp32 (LlamaModel.Positions).
        if (rotaryInFloat32 && x.DType != DType.Float32) return Rotate(x.To(DType.Float32), cos, sin).To(x.DType);
        Func<Tensor, Tensor, Tensor, Tensor> apply = interleaved ? Functional.ApplyInterleavedRotary : Functional.ApplyRotary;
        if (rotaryDim == headDim) return apply(x, cos, sin);
        var turned = apply(x.Narrow(-1, 0, rotaryDim), cos, sin);
        return Tensor.Cat([turned, x.Narrow(-1, rotaryDim, headDim - rotaryDim)], -1);
    }

    /// <summary>
    /// Attention with Gemma2's tanh cap on the scores, which no fused kernel applies: the [heads, length, keys] scores
    /// are materialised, capped, masked (causal, or <paramref name="mask"/>: true = may attend) and softmaxed in fp32,
    /// in the order and dtypes of transformers' eager attention. The queries are the last ones of the keys (a cache
    /// puts earlier positions before them).
    /// </summary>
    private Tensor SoftCappedAttention(Tensor queries, Tensor keys, Tensor values, Tensor? mask, double cap)
    {
        var length = queries.Size(2);
        var keyCount = keys.Size(2);
        var scores = LlamaModel.SoftCap(queries.MatMul(keys.Transpose(2, 3)) * (scale ?? 1 / Math.Sqrt(headDim)), cap);
        if (mask is null)
        {
            var positions = Tensor.Arange(keyCount - length, keyCount, device: queries.Device).Unsqueeze(1);
            mask = Tensor.Arange(0, keyCount, device: queries.Device).Unsqueeze(0).Le(positions);
        }
        var masked = scores.MaskedFill(mask.LogicalNot(), double.NegativeInfinity);
        var weights = Functional.Softmax(masked.To(DType.Float32), -1).To(queries.DType);
        return weights.MatMul(values);
    }
}

/// <summary>Gated MLP: down(act(gate(x)) * up(x)), SwiGLU (silu) or GeGLU (tanh GELU, Gemma).</summary>
internal sealed class LlamaMlp : Module
{
    private readonly Linear? gate, up, gateUp;
    private readonly Linear down;
    private readonly int intermediate;
    private readonly MlpActivation activation;

    /// <param name="config">The model's shape.</param>
    /// <param name="intermediate">The inner width: the model's intermediate size, or Qwen2-MoE's shared expert's.</param>
    /// <param name="dtype">The weights' element type.</param>
    /// <param name="device">Where the weights live.</param>
    public LlamaMlp(DecoderConfig config, int intermediate, DType dtype, Device? device)
    {
        var bias = config.MlpBias;
        this.intermediate = intermediate;
        if (config.FusedProjections || config.FusedGateUp)
        {
            gateUp = RegisterModule("gate_up_proj", new Linear(config.HiddenSize, 2 * intermediate, bias, dtype: dtype, device: device));
        }
        else
        {
            gate = RegisterModule("gate_proj", new Linear(config.HiddenSize, intermediate, bias, dtype: dtype, device: device));
            up = RegisterModule("up_proj", new Linear(config.HiddenSize, intermediate, bias, dtype: dtype, device: device));
        }
        down = RegisterModule("down_proj", new Linear(intermediate, config.HiddenSize, bias, dtype: dtype, device: device));
        activation = config.Activation;
    }

    public Tensor Forward(Tensor x)
    {
        Tensor gated, upped;
        if (gateUp is null)
        {
            (gated, upped) = (gate!.Forward(x), up!.Forward(x));
        }
        else
        {
            // Phi3: the gate is the first half of gate_up_proj's output.
            var both = gateUp.Forward(x);
            (gated, upped) = (both.Narrow(-1, 0, intermediate), both.Narrow(-1, intermediate, intermediate));
        }
        var activated = activation == MlpActivation.GeluTanh ? gated.Gelu(tanhApproximation: true) : gated.Silu();
        return down.Forward(activated * upped);
    }
}

/// <summary>
/// A sparse MLP (Mixtral, Qwen2-MoE, Qwen3-MoE): a router picks the top-k experts per token (softmax over all experts
/// in fp32; Mixtral then renormalises the chosen weights to sum to 1, Qwen MoE where norm_topk_prob says so); only the
/// chosen experts run on a token. Qwen2-MoE adds a shared expert that every token passes, scaled by a sigmoid gate.
/// </summary>
internal sealed class MixtureOfExperts : Module
{
    private readonly Linear router;
    private readonly Expert[] experts;
    private readonly LlamaMlp? sharedExpert;
    private readonly Linear? sharedExpertGate;
    private readonly int perToken;
    private readonly bool normalize;

    public MixtureOfExperts(DecoderConfig config, DType dtype, Device? device)
    {
        perToken = config.ExpertsPerToken;
        normalize = config.NormalizeTopK;
        router = RegisterModule("gate", new Linear(config.HiddenSize, config.Experts, dtype: dtype, device: device));
        experts = Enumerable.Range(0, config.Experts)
            .Select(e => RegisterModule($"experts.{e}", new Expert(config, dtype, device)))
            .ToArray();
        if (config.SharedExpertIntermediateSize > 0)
        {
            sharedExpert = RegisterModule("shared_expert", new LlamaMlp(config, config.SharedExpertIntermediateSize, dtype, device));
            sharedExpertGate = RegisterModule("shared_expert_gate", new Linear(config.HiddenSize, 1, dtype: dtype, device: device));
        }
    }

    public Tensor Forward(Tensor x)
    {
        var shape = x.Shape;
        var tokens = x.Reshape(-1, shape[^1]);
        var routing = Functional.Softmax(router.Forward(tokens).To(DType.Float32), -1);
        var (topWeights, topExperts) = routing.TopK(perToken, -1);
        var chosen = (normalize ? topWeights / topWeights.Sum(-1, keepDim: true) : topWeights).To(x.DType).Flatten();
        // The choices come to the host once per layer and are grouped per expert there: a mask, a nonzero and a device
        // sync per expert would be paid by all of them (128 in Qwen3-MoE), most of which a short batch never picks.
        // A slot is token * perToken + rank, so an expert's slots name its rows too.
        var picked = topExperts.ToArray<long>();
        var slotsOf = new List<long>?[experts.Length];
        for (var slot = 0; slot < picked.Length; slot++)
            (slotsOf[picked[slot]] ??= []).Add(slot);

        var output = tokens.ZerosLike();
        for (var e = 0; e < experts.Length; e++)
        {
            if (slotsOf[e] is not { } slots) continue;
            // Rows ascend and each expert's are added in turn, as transformers accumulates them.
            var rows = Tensor.From<long>([.. slots.Select(slot => slot / perToken)], x.Device);
            var weight = chosen.IndexSelect(0, Tensor.From<long>([.. slots], x.Device)).Unsqueeze(1);
            var y = experts[e].Forward(tokens.IndexSelect(0, rows)) * weight;
            output = output.IndexAdd(0, rows, y);
        }
        if (sharedExpert is not null)
            output = output + sharedExpertGate!.Forward(tokens).Sigmoid() * sharedExpert.Forward(tokens);
        return output.Reshape(shape);
    }
}

/// <summary>One routed expert: down(silu(gate(x)) * up(x)), named w1/w3/w2 by Mixtral and gate/up/down_proj by Qwen.</summary>
internal sealed class Expert : Module
{
    private readonly Linear gate, up, down;

    public Expert(DecoderConfig config, DType dtype, Device? device)
    {
        var width = config.EffectiveExpertIntermediateSize;
        var (gateName, upName, downName) = config.ExpertLayout == ExpertLayout.Mixtral ? ("w1", "w3", "w2") : ("gate_proj", "up_proj", "down_proj");
        // Registered in the order each family's checkpoints list them.
        gate = RegisterModule(gateName, new Linear(config.HiddenSize, width, dtype: dtype, device: device));
        if (config.ExpertLayout == ExpertLayout.Mixtral)
        {
            down = RegisterModule(downName, new Linear(width, config.HiddenSize, dtype: dtype, device: device));
            up = RegisterModule(upName, new Linear(config.HiddenSize, width, dtype: dtype, device: device));
        }
        else
        {
            up = RegisterModule(upName, new Linear(config.HiddenSize, width, dtype: dtype, device: device));
            down = RegisterModule(downName, new Linear(width, config.HiddenSize, dtype: dtype, device: device));
        }
    }

    public Tensor Forward(Tensor x) => Functional.SwiGlu(x, gate.Weight, up.Weight, down.Weight);
}
