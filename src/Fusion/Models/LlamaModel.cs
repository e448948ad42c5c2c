using FuseChat.Torch;
using FuseChat.Torch.Nn;

namespace FuseChat.Fusion.Models;

/// <summary>
/// A Llama-family decoder-only transformer: token embedding, N pre-norm layers of grouped-query
/// self-attention with rotary positions and a SwiGLU MLP, a final RMSNorm and the output projection.
/// Parameter names match Hugging Face checkpoints (model.layers.0.self_attn.q_proj.weight, ...).
/// </summary>
public sealed class LlamaModel : Module
{
    private readonly LlamaBackbone backbone;
    private readonly Linear? lmHead;
    private readonly RotaryEmbedding rotary;

    /// <summary>Creates a randomly initialised model (Normal(0, 0.02) weights, unit norms).</summary>
    public LlamaModel(DecoderConfig config, DType dtype = DType.Float32, Device? device = null)
    {
        config.Validate();
        Config = config;
        backbone = RegisterModule("model", new LlamaBackbone(config, dtype, device));
        if (!config.TieEmbeddings)
            lmHead = RegisterModule("lm_head", new Linear(config.HiddenSize, config.VocabSize, dtype: dtype, device: device));
        rotary = new RotaryEmbedding(config.EffectiveHeadDim, config.RopeTheta, config.RopeLinearFactor);
    }

    /// <summary>The model's shape.</summary>
    public DecoderConfig Config { get; }

    /// <summary>Next-token logits [batch, length, vocab] for token ids [batch, length] (int64).</summary>
    public Tensor Forward(Tensor ids)
    {
        using var scope = DisposeScope.Open();
        var length = ids.Size(1);
        var h = backbone.EmbedTokens.Forward(ids);
        var (cos, sin) = rotary.Get(0, length, h.DType, h.Device);
        foreach (var layer in backbone.Layers) h = layer.Forward(h, cos, sin);
        h = backbone.Norm.Forward(h);
        var logits = lmHead is null ? Functional.Linear(h, backbone.EmbedTokens.Weight) : lmHead.Forward(h);
        return logits.MoveToOuterScope();
    }

    /// <summary>Mean next-token cross entropy of a batch: position t predicts ids[t+1]; labels of -100 are ignored.</summary>
    public Tensor Loss(Tensor ids, Tensor? labels = null)
    {
        using var scope = DisposeScope.Open();
        var logits = Forward(ids);
        var targets = labels ?? ids;
        var length = ids.Size(1);
        var predicted = logits.Narrow(1, 0, length - 1).Reshape(-1, Config.VocabSize);
        var next = targets.Narrow(1, 1, length - 1).Reshape(-1);
        return Functional.CrossEntropy(predicted, next, ignoreIndex: -100).MoveToOuterScope();
    }

    /// <inheritdoc/>
    protected override void ReleaseResources() => rotary.Dispose();
}

/// <summary>Embedding, layers and final norm: the "model." prefix of Hugging Face names.</summary>
internal sealed class LlamaBackbone : Module
{
    public LlamaBackbone(DecoderConfig config, DType dtype, Device? device)
    {
        EmbedTokens = RegisterModule("embed_tokens", new Embedding(config.VocabSize, config.HiddenSize, dtype: dtype, device: device));
        Layers = Enumerable.Range(0, config.Layers)
            .Select(i => RegisterModule($"layers.{i}", new LlamaDecoderLayer(config, dtype, device)))
            .ToArray();
        Norm = RegisterModule("norm", new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device));
    }

    public Embedding EmbedTokens { get; }
    public IReadOnlyList<LlamaDecoderLayer> Layers { get; }
    public RmsNorm Norm { get; }
}

/// <summary>h + attn(norm(h)), then h + mlp(norm(h)).</summary>
internal sealed class LlamaDecoderLayer : Module
{
    private readonly RmsNorm inputNorm;
    private readonly LlamaAttention attention;
    private readonly RmsNorm postAttentionNorm;
    private readonly LlamaMlp mlp;

    public LlamaDecoderLayer(DecoderConfig config, DType dtype, Device? device)
    {
        inputNorm = RegisterModule("input_layernorm", new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device));
        attention = RegisterModule("self_attn", new LlamaAttention(config, dtype, device));
        postAttentionNorm = RegisterModule("post_attention_layernorm", new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device));
        mlp = RegisterModule("mlp", new LlamaMlp(config, dtype, device));
    }

    public Tensor Forward(Tensor h, Tensor cos, Tensor sin)
    {
        var attended = h + attention.Forward(inputNorm.Forward(h), cos, sin);
        return attended + mlp.Forward(postAttentionNorm.Forward(attended));
    }
}

/// <summary>Causal grouped-query self-attention with rotary positions.</summary>
internal sealed class LlamaAttention : Module
{
    private readonly Linear q, k, v, o;
    private readonly int heads, kvHeads, headDim;

    public LlamaAttention(DecoderConfig config, DType dtype, Device? device)
    {
        heads = config.Heads;
        kvHeads = config.EffectiveKeyValueHeads;
        headDim = config.EffectiveHeadDim;
        var bias = config.AttentionBias;
        q = RegisterModule("q_proj", new Linear(config.HiddenSize, heads * headDim, bias, dtype: dtype, device: device));
        k = RegisterModule("k_proj", new Linear(config.HiddenSize, kvHeads * headDim, bias, dtype: dtype, device: device));
        v = RegisterModule("v_proj", new Linear(config.HiddenSize, kvHeads * headDim, bias, dtype: dtype, device: device));
        o = RegisterModule("o_proj", new Linear(heads * headDim, config.HiddenSize, dtype: dtype, device: device));
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin)
    {
        var batch = x.Size(0);
        var length = x.Size(1);
        // [batch, length, heads * dim] -> [batch, heads, length, dim]
        var queries = Functional.ApplyRotary(q.Forward(x).View(batch, length, heads, headDim).Transpose(1, 2), cos, sin);
        var keys = Functional.ApplyRotary(k.Forward(x).View(batch, length, kvHeads, headDim).Transpose(1, 2), cos, sin);
        var values = v.Forward(x).View(batch, length, kvHeads, headDim).Transpose(1, 2);
        if (kvHeads != heads)
        {
            // Each key/value head serves heads / kvHeads consecutive query heads (Hugging Face's repeat_kv).
            keys = keys.RepeatInterleave(heads / kvHeads, 1);
            values = values.RepeatInterleave(heads / kvHeads, 1);
        }
        var attended = Functional.ScaledDotProductAttention(queries, keys, values, isCausal: true);
        return o.Forward(attended.Transpose(1, 2).Reshape(batch, length, heads * headDim));
    }
}

/// <summary>SwiGLU: down(silu(gate(x)) * up(x)).</summary>
internal sealed class LlamaMlp : Module
{
    private readonly Linear gate, up, down;

    public LlamaMlp(DecoderConfig config, DType dtype, Device? device)
    {
        gate = RegisterModule("gate_proj", new Linear(config.HiddenSize, config.IntermediateSize, dtype: dtype, device: device));
        up = RegisterModule("up_proj", new Linear(config.HiddenSize, config.IntermediateSize, dtype: dtype, device: device));
        down = RegisterModule("down_proj", new Linear(config.IntermediateSize, config.HiddenSize, dtype: dtype, device: device));
    }

    public Tensor Forward(Tensor x) => Functional.SwiGlu(x, gate.Weight, up.Weight, down.Weight);
}
