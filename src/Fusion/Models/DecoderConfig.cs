using FuseChat.Fusion.Checkpoints;

namespace FuseChat.Fusion.Models;

/// <summary>
/// Shape and numerics of a Llama-family decoder (Llama, Mistral, Qwen2, Qwen3, Mixtral, Qwen2-MoE, Qwen3-MoE, Gemma2, Gemma3, Phi3, SmolLM3, OLMo 2, OLMo 3, EXAONE 4, GLM-4 and ERNIE 4.5 share this skeleton).
/// Hugging Face config.json files map onto it; tiny ones are written by hand for tests and demos.
/// </summary>
public sealed record DecoderConfig
{
    /// <summary>Rows of the embedding and output matrices.</summary>
    public required int VocabSize { get; init; }
    /// <summary>Width of the residual stream.</summary>
    public required int HiddenSize { get; init; }
    /// <summary>Width of the SwiGLU inner layer.</summary>
    public required int IntermediateSize { get; init; }
    /// <summary>Number of decoder layers.</summary>
    public required int Layers { get; init; }
    /// <summary>Query heads.</summary>
    public required int Heads { get; init; }
    /// <summary>Key/value heads (grouped-query attention when fewer than <see cref="Heads"/>).</summary>
    public int KeyValueHeads { get; init; }
    /// <summary>Width of one head; 0 means HiddenSize / Heads.</summary>
    public int HeadDim { get; init; }
    /// <summary>RMSNorm epsilon.</summary>
    public double RmsNormEps { get; init; } = 1e-6;
    /// <summary>Rotary embedding base.</summary>
    public double RopeTheta { get; init; } = 10000;
    /// <summary>Rotary scaling (linear, llama3 or longrope); null = none.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>
    /// The rotary base of the sliding layers, unscaled (Gemma3's rope_local_base_freq; OLMo 3's own base when its global
    /// layers are scaled); null: they rotate as the others,
    /// by <see cref="RopeTheta"/> and <see cref="RopeScaling"/>.
    /// </summary>
    public double? LocalRopeTheta { get; init; }
    /// <summary>Longest sequence the model supports.</summary>
    public int MaxPositions { get; init; } = 2048;
    /// <summary>Output matrix shares the embedding's weights.</summary>
    public bool TieEmbeddings { get; init; }
    /// <summary>Q, K and V projections have biases (Qwen2).</summary>
    public bool AttentionBias { get; init; }

    /// <summary>The attention output projection has a bias (Llama with attention_bias).</summary>
    public bool AttentionOutputBias { get; init; }
    /// <summary>The MLP projections have biases (Llama with mlp_bias).</summary>
    public bool MlpBias { get; init; }
    /// <summary>Mistral's sliding attention window in tokens; 0 = full causal attention.</summary>
    public int SlidingWindow { get; init; }
    /// <summary>The first layer that uses <see cref="SlidingWindow"/>; earlier layers attend fully (Qwen2's max_window_layers).</summary>
    public int FirstSlidingLayer { get; init; }
    /// <summary>Experts per layer of a Mixtral-style sparse MLP; 0 = dense SwiGLU MLP.</summary>
    public int Experts { get; init; }
    /// <summary>Experts each token is routed to (Mixtral: 2).</summary>
    public int ExpertsPerToken { get; init; } = 2;

    /// <summary>Width of each routed expert (Qwen MoE's moe_intermediate_size); 0 means <see cref="IntermediateSize"/> (Mixtral).</summary>
    public int ExpertIntermediateSize { get; init; }

    /// <summary>Width of Qwen2-MoE's shared expert, which every token passes through behind a sigmoid gate; 0 for none.</summary>
    public int SharedExpertIntermediateSize { get; init; }

    /// <summary>
    /// Whether the chosen experts' router probabilities are renormalised to sum to one (Mixtral always; Qwen MoE's
    /// norm_topk_prob, off in Qwen1.5-MoE and on in Qwen3-MoE).
    /// </summary>
    public bool NormalizeTopK { get; init; } = true;

    /// <summary>
    /// Which layers have the sparse MLP, one flag per layer (Qwen MoE's decoder_sparse_step and mlp_only_layers; the
    /// others have a dense MLP of <see cref="IntermediateSize"/>); null: every layer, when <see cref="Experts"/> is set.
    /// </summary>
    public IReadOnlyList<bool>? SparseLayers { get; init; }

    /// <summary>The tensor names of the sparse MLP.</summary>
    public ExpertLayout ExpertLayout { get; init; }

    /// <summary>
    /// Which layers use <see cref="SlidingWindow"/>, one flag per layer (Gemma2 alternates); null places the window
    /// from <see cref="FirstSlidingLayer"/> on.
    /// </summary>
    public IReadOnlyList<bool>? SlidingLayers { get; init; }

    /// <summary>
    /// Which layers rotate their queries and keys, one flag per layer (SmolLM3's no_rope_layers); null: every layer.
    /// </summary>
    public IReadOnlyList<bool>? RotaryLayers { get; init; }

    /// <summary>Whether layer <paramref name="layer"/> applies rotary positions.</summary>
    public bool Rotates(int layer) => RotaryLayers is not { } flags || flags[layer];

    /// <summary>The gate's activation.</summary>
    public MlpActivation Activation { get; init; } = MlpActivation.Silu;

    /// <summary>RMSNorm on every query and key head before the rotation (Qwen3's q_norm and k_norm).</summary>
    public bool QueryKeyNorm { get; init; }

    /// <summary>
    /// Gemma's conventions: embeddings scaled by sqrt(hidden size), RMSNorm weights stored as offsets from one (the
    /// scale is 1 + w, applied in fp32), and a norm on the attention's and the MLP's output before each residual add.
    /// </summary>
    public bool GemmaNorms { get; init; }

    /// <summary>
    /// OLMo 2's and EXAONE 4's layout: no norm on a sublayer's input, one on its output before the residual add
    /// (post_attention_layernorm, post_feedforward_layernorm); without <see cref="QueryKeyNorm"/> (OLMo), RMSNorm over
    /// the whole query and key projections.
    /// </summary>
    public bool OutputNormsOnly { get; init; }

    /// <summary>Every norm's weight applied in fp32 before rounding (OLMo 2 and 3); Llama rounds first, then scales.</summary>
    public bool NormScaleInFloat32 { get; init; }

    /// <summary>Attention scores' scale; null for 1 / sqrt(head width) (Gemma2: query_pre_attn_scalar^-0.5).</summary>
    public double? AttentionScale { get; init; }

    /// <summary>Attention scores s become c * tanh(s / c) before the softmax (Gemma2: 50); null for none.</summary>
    public double? AttentionSoftcap { get; init; }

    /// <summary>Logits z become c * tanh(z / c) (Gemma2: 30); null for none.</summary>
    public double? FinalSoftcap { get; init; }

    /// <summary>Width of the part of each head that rotary positions turn (the rest passes as is); 0 for the whole head.</summary>
    public int RotaryDim { get; init; }

    /// <summary>Phi3's fused projections: q, k and v in one matrix (qkv_proj), gate and up in another (gate_up_proj).</summary>
    public bool FusedProjections { get; init; }

    /// <summary>GLM-4's MLP: gate and up in one matrix (gate_up_proj) beside separate q, k and v projections.</summary>
    public bool FusedGateUp { get; init; }

    /// <summary>
    /// GLM-4's norms: input_layernorm, post_self_attn_layernorm on the attention's output, post_attention_layernorm on
    /// the MLP's input and post_mlp_layernorm on its output (Gemma's sandwich under other names, with Llama's numerics).
    /// </summary>
    public bool GlmNorms { get; init; }

    /// <summary>Rotary positions turn neighbouring dimensions (2i, 2i + 1) together, GLM's layout, not (i, i + d/2).</summary>
    public bool InterleavedRotary { get; init; }

    /// <summary>The rotation is computed in fp32 from fp32 tables and rounded after (ERNIE 4.5), not in the weights' dtype.</summary>
    public bool RotaryInFloat32 { get; init; }

    /// <summary>The rotated width of a head.</summary>
    public int EffectiveRotaryDim => RotaryDim > 0 ? RotaryDim : EffectiveHeadDim;

    /// <summary>
    /// The embedding row that lookups do not train (transformers' padding_idx = pad_token_id; a negative id counts
    /// from the end, as nn.Embedding does); null for none.
    /// </summary>
    public int? PaddingIndex { get; init; }

    /// <summary>True for a mixture-of-experts model.</summary>
    public bool IsMixtureOfExperts => Experts > 0;

    /// <summary>The width of one routed expert.</summary>
    public int EffectiveExpertIntermediateSize => ExpertIntermediateSize > 0 ? ExpertIntermediateSize : IntermediateSize;

    /// <summary>Whether layer <paramref name="layer"/> routes its tokens to experts rather than through a dense MLP.</summary>
    public bool IsSparse(int layer) => Experts > 0 && (SparseLayers is not { } flags || flags[layer]);

    /// <summary>Effective key/value head count.</summary>
    public int EffectiveKeyValueHeads => KeyValueHeads > 0 ? KeyValueHeads : Heads;

    /// <summary>Effective head width.</summary>
    public int EffectiveHeadDim => HeadDim > 0 ? HeadDim : HiddenSize / Heads;

    /// <summary>Whether layer <paramref name="layer"/> attends only within <see cref="SlidingWindow"/>.</summary>
    public bool Slides(int layer) => SlidingWindow > 0 && (SlidingLayers is { } flags ? flags[layer] : layer >= FirstSlidingLayer);

    /// <summary>The decoder described by a Hugging Face config.json.</summary>
    public static DecoderConfig From(ModelConfig config)
    {
        var activation = config.HiddenAct switch
        {
            "silu" or "swish" => MlpActivation.Silu,
            "gelu_pytorch_tanh" or "gelu_tanh" => MlpActivation.GeluTanh,
            _ => throw new NotSupportedException($"hidden_act '{config.HiddenAct}' is not supported (supported: silu, gelu_pytorch_tanh)"),
        };
        var gemma = config.IsGemma;
        return new DecoderConfig
        {
            VocabSize = config.VocabSize,
            HiddenSize = config.HiddenSize,
            IntermediateSize = config.IntermediateSize,
            Layers = config.NumHiddenLayers,
            Heads = config.NumAttentionHeads,
            KeyValueHeads = config.NumKeyValueHeads,
            HeadDim = config.HeadDim,
            RmsNormEps = config.RmsNormEps,
            RopeTheta = config.RopeTheta,
            RopeScaling = config.RopeScaling,
            MaxPositions = config.MaxPositionEmbeddings,
            TieEmbeddings = config.TieWordEmbeddings,
            AttentionBias = config.AttentionBias,
            AttentionOutputBias = config.AttentionOutputBias,
            MlpBias = config.MlpBias,
            SlidingWindow = config.EffectiveSlidingWindow ?? 0,
            FirstSlidingLayer = config.EffectiveSlidingWindow is null ? 0 : config.FirstSlidingLayer,
            Experts = config.NumLocalExperts ?? 0,
            ExpertsPerToken = config.NumExpertsPerTok ?? 2,
            ExpertIntermediateSize = config.MoeIntermediateSize ?? 0,
            SharedExpertIntermediateSize = config.SharedExpertIntermediateSize ?? 0,
            NormalizeTopK = config.NormTopkProb ?? true,
            SparseLayers = config.IsQwenMoe ? config.SparseLayers : null,
            RotaryLayers = config.RotaryLayers.IsEmpty ? null : config.RotaryLayers,
            ExpertLayout = config.IsQwenMoe ? ExpertLayout.Qwen : ExpertLayout.Mixtral,
            SlidingLayers = config.HasLayerWindowFlags ? config.SlidingLayers : null,
            Activation = activation,
            QueryKeyNorm = config.Architecture is ModelArchitecture.Qwen3 or ModelArchitecture.Qwen3Moe or ModelArchitecture.Gemma3 or ModelArchitecture.Exaone4,
            LocalRopeTheta = config.LocalRopeTheta,
            GemmaNorms = gemma,
            OutputNormsOnly = config.IsOlmo || config.Architecture == ModelArchitecture.Exaone4,
            NormScaleInFloat32 = config.IsOlmo,
            AttentionScale = config.QueryPreAttnScalar is { } scalar ? 1 / Math.Sqrt(scalar) : null,
            AttentionSoftcap = config.AttnLogitSoftcapping,
            FinalSoftcap = config.FinalLogitSoftcapping,
            // transformers truncates: int(head_dim * partial_rotary_factor).
            RotaryDim = config.PartialRotaryFactor < 1 ? (int)(config.HeadDim * config.PartialRotaryFactor) : 0,
            FusedProjections = config.Architecture == ModelArchitecture.Phi3,
            FusedGateUp = config.Architecture == ModelArchitecture.Glm4,
            GlmNorms = config.Architecture == ModelArchitecture.Glm4,
            InterleavedRotary = config.Architecture is ModelArchitecture.Glm4 or ModelArchitecture.Ernie45,
            RotaryInFloat32 = config.Architecture == ModelArchitecture.Ernie45,
            PaddingIndex = config.PadTokenId switch
            {
                { } id when id >= 0 && id < config.VocabSize => id,
                { } id when id < 0 && id >= -config.VocabSize => config.VocabSize + id,
                _ => null,
            },
        };
    }

    /// <summary>Throws an exception listing every inconsistent value.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (VocabSize < 1) problems.Add($"vocab size must be positive, got {VocabSize}");
        if (HiddenSize < 1) problems.Add($"hidden size must be positive, got {HiddenSize}");
        if (IntermediateSize < 1) problems.Add($"intermediate size must be positive, got {IntermediateSize}");
        if (Layers < 1) problems.Add($"layer count must be positive, got {Layers}");
        if (Heads < 1) problems.Add($"head count must be positive, got {Heads}");
        else
        {
            if (HeadDim <= 0 && HiddenSize % Heads != 0) problems.Add($"hidden size {HiddenSize} is not divisible by {Heads} heads");
            if (EffectiveRotaryDim % 2 != 0 || EffectiveRotaryDim > EffectiveHeadDim)
                problems.Add($"rotary width {EffectiveRotaryDim} must be even and at most the head width {EffectiveHeadDim}");
            if (Heads % EffectiveKeyValueHeads != 0) problems.Add($"{Heads} heads are not divisible by {EffectiveKeyValueHeads} key/value heads");
        }
        if (SlidingWindow < 0) problems.Add($"sliding window must be 0 (none) or positive, got {SlidingWindow}");
        if (FirstSlidingLayer < 0) problems.Add($"first sliding layer must be 0 or positive, got {FirstSlidingLayer}");
        if (Experts < 0) problems.Add($"expert count must be 0 (dense) or positive, got {Experts}");
        if (Experts > 0 && (ExpertsPerToken < 1 || ExpertsPerToken > Experts))
            problems.Add($"experts per token must be in [1, {Experts}], got {ExpertsPerToken}");
        if (ExpertIntermediateSize < 0) problems.Add($"expert width must be 0 (the intermediate size) or positive, got {ExpertIntermediateSize}");
        if (SharedExpertIntermediateSize < 0) problems.Add($"shared expert width must be 0 (none) or positive, got {SharedExpertIntermediateSize}");
        if (RotaryLayers is { } rotary && rotary.Count != Layers) problems.Add($"{rotary.Count} rotary-layer flags for {Layers} layers");
        if (SparseLayers is { } sparse && sparse.Count != Layers) problems.Add($"{sparse.Count} sparse-layer flags for {Layers} layers");
        if ((OutputNormsOnly ? 1 : 0) + (GemmaNorms ? 1 : 0) + (GlmNorms ? 1 : 0) > 1) problems.Add("one norm layout at most: Gemma's, GLM-4's or output norms only (OLMo 2, EXAONE 4)");
        if (SharedExpertIntermediateSize > 0 && ExpertLayout != ExpertLayout.Qwen) problems.Add("a shared expert needs the Qwen expert layout");
        if (LocalRopeTheta is <= 0) problems.Add($"local rotary base must be positive, got {LocalRopeTheta}");
        if (RopeScaling is { Factor: <= 0 }) problems.Add($"rope scaling factor must be positive, got {RopeScaling.Factor}");
        if (SlidingLayers is { } flags && flags.Count != Layers) problems.Add($"{flags.Count} sliding-layer flags for {Layers} layers");
        if (AttentionScale is <= 0) problems.Add($"attention scale must be positive, got {AttentionScale}");
        if (AttentionSoftcap is <= 0) problems.Add($"attention soft cap must be positive, got {AttentionSoftcap}");
        if (FinalSoftcap is <= 0) problems.Add($"logit soft cap must be positive, got {FinalSoftcap}");
        if (PaddingIndex is { } pad && (pad < 0 || pad >= VocabSize)) problems.Add($"padding index {pad} is not a row of the {VocabSize}-row embedding");
        if (problems.Count > 0) throw new ArgumentException("invalid decoder configuration: " + string.Join("; ", problems));
    }
}
