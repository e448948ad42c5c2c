using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// The parts of a Hugging Face config.json that FuseChat needs to build and check a model, for
/// Llama, Mistral, Qwen2, Mixtral, Gemma2, Gemma3, Qwen3, Phi3, Qwen2-MoE, Qwen3-MoE, SmolLM3, OLMo 2, OLMo 3, EXAONE 4, GLM-4 and ERNIE 4.5 causal LMs. Fields the type does not model are kept verbatim
/// in <see cref="ExtraFields"/> so that <see cref="ToJson"/> writes back an equivalent file.
/// </summary>
/// <remarks>
/// Defaults for absent optional fields follow the transformers configuration classes of each
/// architecture (e.g. rope_theta is 10000, but 1e6 for Mixtral).
/// </remarks>
public sealed record ModelConfig
{
    /// <summary>The file name Hugging Face uses.</summary>
    public const string FileName = "config.json";

    private static readonly ImmutableArray<(ModelArchitecture Architecture, string ClassName, string ModelType)> Known =
    [
        (ModelArchitecture.Llama, "LlamaForCausalLM", "llama"),
        (ModelArchitecture.Mistral, "MistralForCausalLM", "mistral"),
        (ModelArchitecture.Qwen2, "Qwen2ForCausalLM", "qwen2"),
        (ModelArchitecture.Mixtral, "MixtralForCausalLM", "mixtral"),
        (ModelArchitecture.Gemma2, "Gemma2ForCausalLM", "gemma2"),
        (ModelArchitecture.Qwen3, "Qwen3ForCausalLM", "qwen3"),
        (ModelArchitecture.Phi3, "Phi3ForCausalLM", "phi3"),
        (ModelArchitecture.Gemma3, "Gemma3ForCausalLM", "gemma3_text"),
        (ModelArchitecture.Qwen2Moe, "Qwen2MoeForCausalLM", "qwen2_moe"),
        (ModelArchitecture.Qwen3Moe, "Qwen3MoeForCausalLM", "qwen3_moe"),
        (ModelArchitecture.SmolLM3, "SmolLM3ForCausalLM", "smollm3"),
        (ModelArchitecture.Olmo2, "Olmo2ForCausalLM", "olmo2"),
        (ModelArchitecture.Olmo3, "Olmo3ForCausalLM", "olmo3"),
        (ModelArchitecture.Exaone4, "Exaone4ForCausalLM", "exaone4"),
        (ModelArchitecture.Glm4, "Glm4ForCausalLM", "glm4"),
        (ModelArchitecture.Ernie45, "Ernie4_5ForCausalLM", "ernie4_5"),
    ];

    /// <summary>The Hugging Face class names FuseChat supports, e.g. "LlamaForCausalLM".</summary>
    public static IReadOnlyList<string> SupportedArchitectures { get; } = [.. Known.Select(k => k.ClassName)];

    /// <summary>The architecture family.</summary>
    public required ModelArchitecture Architecture { get; init; }

    /// <summary>The class name written in "architectures", e.g. "MistralForCausalLM".</summary>
    public string ArchitectureName => Known.First(k => k.Architecture == Architecture).ClassName;

    /// <summary>The "model_type", e.g. "mistral".</summary>
    public required string ModelType { get; init; }

    /// <summary>Rows of the embedding and of lm_head.</summary>
    public required int VocabSize { get; init; }

    /// <summary>Width of the residual stream.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Width of the MLP (of each expert for Mixtral).</summary>
    public required int IntermediateSize { get; init; }

    /// <summary>Number of decoder layers.</summary>
    public required int NumHiddenLayers { get; init; }

    /// <summary>Number of query heads.</summary>
    public required int NumAttentionHeads { get; init; }

    /// <summary>Number of key/value heads (grouped-query attention); equals the query heads when absent.</summary>
    public required int NumKeyValueHeads { get; init; }

    /// <summary>Width of one head; hidden_size / num_attention_heads when absent.</summary>
    public required int HeadDim { get; init; }

    /// <summary>MLP activation: "silu", or "gelu_pytorch_tanh" for Gemma2 (its config.json calls it hidden_activation).</summary>
    public string HiddenAct { get; init; } = "silu";

    /// <summary>Epsilon of the RMS norms.</summary>
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary>Base of the rotary embedding frequencies.</summary>
    public double RopeTheta { get; init; } = 10000;

    /// <summary>Rotary scaling, or null for none.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>
    /// The fraction of each head that rotary positions turn (Phi3's partial_rotary_factor, at the top level or in
    /// rope_parameters; Phi-4-mini: 0.75); 1 for the whole head.
    /// </summary>
    public double PartialRotaryFactor { get; init; } = 1;

    /// <summary>Longest sequence the model was trained for.</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;

    /// <summary>Whether lm_head shares the embedding matrix (then the checkpoint has no lm_head.weight).</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Whether q_proj, k_proj and v_proj have biases (always true for Qwen2; Gemma2's and Qwen3's attention_bias).</summary>
    public bool AttentionBias { get; init; }

    /// <summary>Whether o_proj has a bias (attention_bias of Llama, Gemma2 and Qwen3 sets both).</summary>
    public bool AttentionOutputBias { get; init; }

    /// <summary>Whether the MLP projections have biases (Llama's mlp_bias).</summary>
    public bool MlpBias { get; init; }

    /// <summary>Beginning-of-sequence token ids (config.json allows an int or a list).</summary>
    public ImmutableArray<int> BosTokenIds { get; init; } = [];

    /// <summary>End-of-sequence token ids (config.json allows an int or a list).</summary>
    public ImmutableArray<int> EosTokenIds { get; init; } = [];

    /// <summary>
    /// The padding token id, or null. transformers makes it the embedding's padding_idx in every family here, so that
    /// training never moves that row through lookups; <see cref="Models.DecoderConfig"/> does the same.
    /// </summary>
    public int? PadTokenId { get; init; }

    /// <summary>The checkpoint's dtype as written ("bfloat16", "float16", "float32"), or null.</summary>
    public string? TorchDtype { get; init; }

    /// <summary>The sliding_window value as written (Mistral, Mixtral, Qwen2), or null.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>Qwen2's use_sliding_window switch; for Mistral and Mixtral, whether a window is set.</summary>
    public bool UseSlidingWindow { get; init; }

    /// <summary>Gemma's conventions (Gemma2 and Gemma3): scaled embeddings, 1 + w norms, sandwich norms, layer_types.</summary>
    public bool IsGemma => Architecture is ModelArchitecture.Gemma2 or ModelArchitecture.Gemma3;

    /// <summary>OLMo 2 and OLMo 3: norms on the sublayers' outputs only, query/key norms over the whole projections.</summary>
    public bool IsOlmo => Architecture is ModelArchitecture.Olmo2 or ModelArchitecture.Olmo3;

    /// <summary>Whether each layer's window is set by a flag (<see cref="SlidingLayers"/>): Gemma2, Gemma3 and OLMo 3.</summary>
    public bool HasLayerWindowFlags => IsGemma || Architecture is ModelArchitecture.Olmo3 or ModelArchitecture.Exaone4;

    /// <summary>
    /// The rotary base of the sliding layers, which rotate unscaled; the global layers use <see cref="RopeTheta"/> and
    /// <see cref="RopeScaling"/>. Gemma3: rope_local_base_freq (10000). OLMo 3 with a scaled rotation:
    /// <see cref="RopeTheta"/> (derived, never written). Null for the other families.
    /// </summary>
    public double? LocalRopeTheta { get; init; }

    /// <summary>Qwen2's and Qwen3's max_window_layers, or null.</summary>
    public int? MaxWindowLayers { get; init; }

    /// <summary>
    /// Gemma2: which layers attend within <see cref="SlidingWindow"/> (transformers' layer_types; by default every
    /// other layer, from the first). Empty for the other families, whose windows <see cref="FirstSlidingLayer"/> places.
    /// </summary>
    public ImmutableArray<bool> SlidingLayers { get; init; } = [];

    /// <summary>
    /// Gemma2: attention scores are scaled by query_pre_attn_scalar^-0.5 instead of head_dim^-0.5 (256 for 9B, 144 for
    /// 27B; transformers 5 refuses a non-integer).
    /// </summary>
    public int? QueryPreAttnScalar { get; init; }

    /// <summary>Gemma2: attention scores s become c * tanh(s / c) before the softmax; null for none.</summary>
    public double? AttnLogitSoftcapping { get; init; }

    /// <summary>Gemma2: logits z become c * tanh(z / c); null for none.</summary>
    public double? FinalLogitSoftcapping { get; init; }

    /// <summary>
    /// The first layer that attends only within the window; the layers before it attend to every earlier position.
    /// Qwen2 slides from max_window_layers on (transformers' default 28, or where its layer_types switch to
    /// sliding_attention); Mistral and Mixtral slide in every layer.
    /// </summary>
    public int FirstSlidingLayer => Architecture is ModelArchitecture.Qwen2 or ModelArchitecture.Qwen3 ? MaxWindowLayers ?? 28 : 0;

    /// <summary>The attention window in force in some layer, or null for full attention everywhere.</summary>
    public int? EffectiveSlidingWindow => HasLayerWindowFlags
        ? SlidingLayers.Contains(true) ? SlidingWindow : null
        : UseSlidingWindow && FirstSlidingLayer < NumHiddenLayers ? SlidingWindow : null;

    /// <summary>Mixtral's num_local_experts, Qwen MoE's num_experts: experts per sparse layer.</summary>
    public int? NumLocalExperts { get; init; }

    /// <summary>Mixtral and Qwen MoE: experts each token is routed to.</summary>
    public int? NumExpertsPerTok { get; init; }

    /// <summary>Mixtral and Qwen MoE: weight of the router load-balancing loss.</summary>
    public double? RouterAuxLossCoef { get; init; }

    /// <summary>Qwen2-MoE and Qwen3-MoE (the two share their sparse MLP's names and fields).</summary>
    public bool IsQwenMoe => Architecture is ModelArchitecture.Qwen2Moe or ModelArchitecture.Qwen3Moe;

    /// <summary>Qwen MoE: the width of each routed expert (moe_intermediate_size); the dense layers use <see cref="IntermediateSize"/>.</summary>
    public int? MoeIntermediateSize { get; init; }

    /// <summary>Qwen2-MoE: the width of the shared expert (shared_expert_intermediate_size).</summary>
    public int? SharedExpertIntermediateSize { get; init; }

    /// <summary>Qwen MoE's norm_topk_prob: whether the chosen experts' probabilities are renormalised to sum to one.</summary>
    public bool? NormTopkProb { get; init; }

    /// <summary>Qwen MoE's decoder_sparse_step: layer i is sparse when (i + 1) is a multiple of it (1: every layer).</summary>
    public int? DecoderSparseStep { get; init; }

    /// <summary>Qwen MoE's mlp_only_layers: layers that keep a dense MLP whatever the step says.</summary>
    public ImmutableArray<int> MlpOnlyLayers { get; init; } = [];

    /// <summary>
    /// Which layers have the sparse MLP: for Qwen MoE as transformers decides it (not in mlp_only_layers, experts
    /// present, (i + 1) a multiple of decoder_sparse_step), for Mixtral every layer, for the dense families none.
    /// </summary>
    public ImmutableArray<bool> SparseLayers => [.. Enumerable.Range(0, NumHiddenLayers).Select(i => NumLocalExperts is > 0 && (!IsQwenMoe
        || (!MlpOnlyLayers.Contains(i) && (i + 1) % (DecoderSparseStep ?? 1) == 0)))];

    /// <summary>Mixtral: router jitter noise, when given.</summary>
    public double? RouterJitterNoise { get; init; }

    /// <summary>
    /// Which layers rotate their queries and keys. SmolLM3: no_rope_layers (1 rotates, 0 is a "NoPE" layer; by default
    /// every no_rope_layer_interval-th layer, the fourth, does not); EXAONE 4 with a window: its sliding layers only
    /// (derived, not written). Empty for the other families, where all rotate.
    /// </summary>
    public ImmutableArray<bool> RotaryLayers { get; init; } = [];

    /// <summary>Fields this type does not model, as raw JSON text by key; written back unchanged.</summary>
    public IReadOnlyDictionary<string, string> ExtraFields { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>Reads and validates a config.json file.</summary>
    /// <param name="path">The file, or a model folder containing config.json.</param>
    /// <returns>The config.</returns>
    /// <exception cref="CheckpointFormatException">Malformed, unsupported or inconsistent; the message names the file.</exception>
    public static ModelConfig Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(Directory.Exists(path) ? Path.Combine(path, FileName) : path);
        return Parse(File.ReadAllText(full), full);
    }

    /// <summary>Parses and validates config.json text.</summary>
    /// <param name="json">The file's text.</param>
    /// <param name="source">Name used in error messages (normally the file path).</param>
    /// <returns>The config.</returns>
    /// <exception cref="CheckpointFormatException">Malformed, unsupported or inconsistent.</exception>
    public static ModelConfig Parse(string json, string source = FileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw Error(source, $"not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Error(source, "expected a JSON object");
            }

            if (LanguageModelOf(document.RootElement, source) is { } text)
            {
                return Parse(text, source);
            }

            return new Parser(source, document.RootElement).Parse();
        }
    }

    /// <summary>
    /// Multimodal classes whose language model FuseChat reads: the class, its text model's model_type and class, and
    /// the defaults of that text model's transformers configuration class for the fields our parser requires (the
    /// published files leave most of them out).
    /// </summary>
    private static readonly ImmutableArray<(string Outer, string TextType, string TextClass, (string Key, int Value)[] Defaults)> Multimodal =
    [
        // Gemma 3 4B, 12B and 27B: Gemma3TextConfig's defaults.
        ("Gemma3ForConditionalGeneration", "gemma3_text", "Gemma3ForCausalLM",
            [("vocab_size", 262208), ("hidden_size", 2304), ("intermediate_size", 9216), ("num_hidden_layers", 26),
             ("num_attention_heads", 8), ("num_key_value_heads", 4), ("head_dim", 256)]),
        // Mistral Small 3.1 and 3.2, Magistral Small: MistralConfig's defaults.
        ("Mistral3ForConditionalGeneration", "mistral", "MistralForCausalLM",
            [("vocab_size", 32000), ("hidden_size", 4096), ("intermediate_size", 14336), ("num_hidden_layers", 32),
             ("num_attention_heads", 32), ("num_key_value_heads", 8)]),
    ];

    /// <summary>
    /// The language model of a multimodal config (<see cref="Multimodal"/>) as a text model's config.json: its
    /// text_config completed with the text class's defaults and the outer file's token ids and dtype. Null for any
    /// other config. The fused models are text models: their config is this one.
    /// </summary>
    private static string? LanguageModelOf(JsonElement root, string source)
    {
        if (!root.TryGetProperty("architectures", out var architectures) || architectures.ValueKind != JsonValueKind.Array
            || architectures.GetArrayLength() != 1 || architectures[0].ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var declared = architectures[0].GetString();
        var known = Multimodal.FirstOrDefault(m => m.Outer == declared);
        if (known.Outer is null)
        {
            return null;
        }

        JsonObject text;
        if (!root.TryGetProperty("text_config", out var inner) || inner.ValueKind == JsonValueKind.Null)
        {
            text = [];
        }
        else
        {
            text = inner.ValueKind == JsonValueKind.Object
                ? JsonNode.Parse(inner.GetRawText())!.AsObject()
                : throw Error(source, $"text_config must be an object, found {inner.GetRawText()}");
        }

        if (text["model_type"] is { } type && type.GetValueKind() == JsonValueKind.String && type.GetValue<string>() != known.TextType)
        {
            throw Error(source, $"text_config.model_type is '{type.GetValue<string>()}'; the language model FuseChat reads in {known.Outer} is {known.TextType}");
        }

        text["architectures"] = new JsonArray(known.TextClass);
        text["model_type"] = known.TextType;
        foreach (var (key, value) in known.Defaults)
        {
            if (!text.ContainsKey(key)) text[key] = value;
        }

        foreach (var key in new[] { "bos_token_id", "eos_token_id", "pad_token_id", "torch_dtype", "dtype", "tie_word_embeddings" })
        {
            if (!text.ContainsKey(key) && root.TryGetProperty(key, out var outer)) text[key] = JsonNode.Parse(outer.GetRawText());
        }

        return text.ToJsonString();
    }

    /// <summary>Writes the config as config.json text (keys sorted, two-space indent, as transformers does).</summary>
    /// <returns>The JSON text, ending with a newline.</returns>
    public string ToJson()
    {
        var fields = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, raw) in ExtraFields)
        {
            fields[key] = raw;
        }

        void Put(string key, object? value) => fields[key] = value switch
        {
            null => "null",
            string s => JsonSerializer.Serialize(s),
            bool b => b ? "true" : "false",
            int i => i.ToString(CultureInfo.InvariantCulture),
            double d => FormatDouble(d),
            _ => throw new InvalidOperationException($"Unexpected config value type {value.GetType()}."),
        };

        fields["architectures"] = "[" + JsonSerializer.Serialize(ArchitectureName) + "]";
        Put("model_type", ModelType);
        Put("vocab_size", VocabSize);
        Put("hidden_size", HiddenSize);
        Put("intermediate_size", IntermediateSize);
        Put("num_hidden_layers", NumHiddenLayers);
        Put("num_attention_heads", NumAttentionHeads);
        Put("num_key_value_heads", NumKeyValueHeads);
        Put(IsGemma ? "hidden_activation" : "hidden_act", HiddenAct);
        Put("rms_norm_eps", RmsNormEps);
        Put("rope_theta", RopeTheta);
        fields["rope_scaling"] = RopeScaling switch
        {
            null => "null",
            { Type: "longrope" } r => LongRopeJson(r),
            { Type: "yarn" } r => YarnJson(r),
            { Type: "llama3" } r => $"{{\"factor\": {FormatDouble(r.Factor)}, \"high_freq_factor\": {FormatDouble(r.HighFreqFactor!.Value)}, " +
                $"\"low_freq_factor\": {FormatDouble(r.LowFreqFactor!.Value)}, \"original_max_position_embeddings\": " +
                $"{r.OriginalMaxPositionEmbeddings!.Value.ToString(CultureInfo.InvariantCulture)}, \"rope_type\": \"llama3\"}}",
            var r => $"{{\"factor\": {FormatDouble(r.Factor)}, \"rope_type\": {JsonSerializer.Serialize(r.Type)}, \"type\": {JsonSerializer.Serialize(r.Type)}}}",
        };
        Put("max_position_embeddings", MaxPositionEmbeddings);
        Put("tie_word_embeddings", TieWordEmbeddings);
        fields["bos_token_id"] = FormatTokenIds(BosTokenIds);
        fields["eos_token_id"] = FormatTokenIds(EosTokenIds);
        fields["pad_token_id"] = PadTokenId is { } pad ? pad.ToString(CultureInfo.InvariantCulture) : "null";
        if (TorchDtype is not null)
        {
            Put("torch_dtype", TorchDtype);
        }

        if (Architecture != ModelArchitecture.Qwen2 || HeadDim != HiddenSize / NumAttentionHeads)
        {
            Put("head_dim", HeadDim);
        }

        switch (Architecture)
        {
            case ModelArchitecture.Llama:
                Put("attention_bias", AttentionBias);
                Put("mlp_bias", MlpBias);
                break;
            case ModelArchitecture.Mistral:
                Put("sliding_window", SlidingWindow);
                break;
            case ModelArchitecture.Qwen2 or ModelArchitecture.Qwen3:
                // Qwen2 always has q/k/v biases, Qwen3 has them when attention_bias says so.
                if (Architecture == ModelArchitecture.Qwen3)
                {
                    Put("attention_bias", AttentionBias);
                }

                Put("sliding_window", SlidingWindow);
                Put("use_sliding_window", UseSlidingWindow);
                if (MaxWindowLayers is not null)
                {
                    Put("max_window_layers", MaxWindowLayers);
                }

                break;
            case ModelArchitecture.Gemma2 or ModelArchitecture.Gemma3:
                if (LocalRopeTheta is not null)
                {
                    Put("rope_local_base_freq", LocalRopeTheta);
                }

                Put("attention_bias", AttentionBias);
                Put("sliding_window", SlidingWindow);
                fields["layer_types"] = LayerTypesJson();
                Put("query_pre_attn_scalar", QueryPreAttnScalar);
                Put("attn_logit_softcapping", AttnLogitSoftcapping);
                Put("final_logit_softcapping", FinalLogitSoftcapping);
                break;
            case ModelArchitecture.Phi3:
                Put("sliding_window", SlidingWindow);
                Put("partial_rotary_factor", PartialRotaryFactor);
                break;
            case ModelArchitecture.Qwen2Moe or ModelArchitecture.Qwen3Moe:
                if (Architecture == ModelArchitecture.Qwen2Moe)
                {
                    Put("qkv_bias", AttentionBias);
                    Put("shared_expert_intermediate_size", SharedExpertIntermediateSize);
                }
                else
                {
                    Put("attention_bias", AttentionBias);
                }

                Put("sliding_window", SlidingWindow);
                Put("use_sliding_window", UseSlidingWindow);
                Put("num_experts", NumLocalExperts);
                Put("num_experts_per_tok", NumExpertsPerTok);
                Put("moe_intermediate_size", MoeIntermediateSize);
                Put("norm_topk_prob", NormTopkProb);
                Put("decoder_sparse_step", DecoderSparseStep);
                fields["mlp_only_layers"] = "[" + string.Join(", ", MlpOnlyLayers.Select(i => i.ToString(CultureInfo.InvariantCulture))) + "]";
                Put("router_aux_loss_coef", RouterAuxLossCoef);
                break;
            case ModelArchitecture.Olmo2:
                Put("attention_bias", AttentionBias);
                break;
            case ModelArchitecture.Glm4:
                Put("attention_bias", AttentionBias);
                Put("partial_rotary_factor", PartialRotaryFactor);
                break;
            case ModelArchitecture.Ernie45:
                Put("use_bias", MlpBias);
                break;
            case ModelArchitecture.Olmo3 or ModelArchitecture.Exaone4:
                if (Architecture == ModelArchitecture.Olmo3)
                {
                    Put("attention_bias", AttentionBias);
                }

                Put("sliding_window", SlidingWindow);
                fields["layer_types"] = LayerTypesJson();
                break;
            case ModelArchitecture.SmolLM3:
                Put("attention_bias", AttentionBias);
                Put("mlp_bias", MlpBias);
                Put("sliding_window", SlidingWindow);
                Put("use_sliding_window", UseSlidingWindow);
                fields["no_rope_layers"] = "[" + string.Join(", ", RotaryLayers.Select(r => r ? "1" : "0")) + "]";
                break;
            case ModelArchitecture.Mixtral:
                Put("sliding_window", SlidingWindow);
                Put("num_local_experts", NumLocalExperts);
                Put("num_experts_per_tok", NumExpertsPerTok);
                Put("router_aux_loss_coef", RouterAuxLossCoef);
                if (RouterJitterNoise is not null)
                {
                    Put("router_jitter_noise", RouterJitterNoise);
                }

                break;
        }

        // Re-indent through a document so extra fields' raw text is laid out like the rest.
        var text = new StringBuilder("{");
        var first = true;
        foreach (var (key, raw) in fields)
        {
            text.Append(first ? string.Empty : ",").Append(JsonSerializer.Serialize(key)).Append(':').Append(raw);
            first = false;
        }

        text.Append('}');
        using var document = JsonDocument.Parse(text.ToString());
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>
    /// Value equality: two configs are equal when they write the same config.json. Records would
    /// otherwise compare the token id arrays and <see cref="ExtraFields"/> by reference.
    /// </summary>
    /// <param name="other">The config to compare with.</param>
    /// <returns>True when both write identical JSON.</returns>
    public bool Equals(ModelConfig? other)
        => other is not null && (ReferenceEquals(this, other) || string.Equals(ToJson(), other.ToJson(), StringComparison.Ordinal));

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToJson());

    /// <summary>Writes config.json atomically (temporary file, then rename).</summary>
    /// <param name="path">Target file, or a folder to write config.json into.</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(Directory.Exists(path) ? Path.Combine(path, FileName) : path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temp, ToJson());
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>transformers 5's layer_types for the families whose windows are set per layer.</summary>
    private string LayerTypesJson() =>
        "[" + string.Join(", ", SlidingLayers.Select(l => l ? "\"sliding_attention\"" : "\"full_attention\"")) + "]";

    /// <summary>Phi-3's rope_scaling: the factor and attention factor only where config.json gave them.</summary>
    private static string LongRopeJson(RopeScaling r)
    {
        var parts = new List<string>();
        if (r.AttentionFactor is { } attention) parts.Add($"\"attention_factor\": {FormatDouble(attention)}");
        if (!r.FactorDerived) parts.Add($"\"factor\": {FormatDouble(r.Factor)}");
        parts.Add($"\"long_factor\": [{string.Join(", ", r.LongFactor!.Select(FormatDouble))}]");
        parts.Add($"\"rope_type\": \"longrope\"");
        parts.Add($"\"short_factor\": [{string.Join(", ", r.ShortFactor!.Select(FormatDouble))}]");
        parts.Add($"\"type\": \"longrope\"");
        return "{" + string.Join(", ", parts) + "}";
    }

    /// <summary>YaRN's rope_scaling: the factor, the original context, and the optional fields where given.</summary>
    private static string YarnJson(RopeScaling r)
    {
        var parts = new List<string>();
        void Optional(string name, double? value)
        {
            if (value is { } v) parts.Add($"\"{name}\": {FormatDouble(v)}");
        }

        Optional("attention_factor", r.AttentionFactor);
        Optional("beta_fast", r.BetaFast);
        Optional("beta_slow", r.BetaSlow);
        parts.Add($"\"factor\": {FormatDouble(r.Factor)}");
        Optional("mscale", r.Mscale);
        Optional("mscale_all_dim", r.MscaleAllDim);
        parts.Add($"\"original_max_position_embeddings\": {r.OriginalMaxPositionEmbeddings!.Value.ToString(CultureInfo.InvariantCulture)}");
        parts.Add("\"rope_type\": \"yarn\"");
        if (r.Truncate is { } truncate) parts.Add($"\"truncate\": {(truncate ? "true" : "false")}");
        parts.Add("\"type\": \"yarn\"");
        return "{" + string.Join(", ", parts) + "}";
    }

    private static string FormatDouble(double d)
    {
        if (!double.IsFinite(d))
        {
            throw new InvalidOperationException($"Config value {d} cannot be written to JSON.");
        }

        // Python's json writes floats with a decimal point; keep that so round trips stay floats.
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.', StringComparison.Ordinal) || s.Contains('E', StringComparison.Ordinal) ? s : s + ".0";
    }

    private static string FormatTokenIds(ImmutableArray<int> ids) => ids.Length switch
    {
        0 => "null",
        1 => ids[0].ToString(CultureInfo.InvariantCulture),
        _ => "[" + string.Join(", ", ids.Select(i => i.ToString(CultureInfo.InvariantCulture))) + "]",
    };

    private static CheckpointFormatException Error(string source, string what, Exception? inner = null)
        => new($"Invalid model config '{source}': {what}.", inner) { FilePath = source };

    private sealed class Parser(string source, JsonElement root)
    {
        private readonly HashSet<string> _consumed = new(StringComparer.Ordinal);
        private ModelArchitecture _architecture;
        private double? _localRopeTheta;

        public ModelConfig Parse()
        {
            var (architecture, modelType) = ResolveArchitecture();
            _architecture = architecture;
            var vocab = RequiredInt("vocab_size");
            var hidden = RequiredInt("hidden_size");
            var intermediate = RequiredInt("intermediate_size");
            var layers = RequiredInt("num_hidden_layers");
            var heads = RequiredInt("num_attention_heads");
            var kvHeads = OptionalInt("num_key_value_heads") ?? heads;
            var headDim = OptionalInt("head_dim");
            if (headDim is null && hidden % heads != 0)
            {
                throw Error(source, $"hidden_size {hidden} is not divisible by num_attention_heads {heads} and no head_dim is given");
            }

            if (heads % kvHeads != 0)
            {
                throw Error(source, $"num_attention_heads {heads} is not a multiple of num_key_value_heads {kvHeads}");
            }

            var isMixtral = architecture == ModelArchitecture.Mixtral;
            var isGemma = architecture is ModelArchitecture.Gemma2 or ModelArchitecture.Gemma3;
            var (ropeTheta, ropeScaling, partialRotary) = ParseRope(defaultTheta: architecture switch
            {
                ModelArchitecture.Mixtral or ModelArchitecture.Gemma3 => 1e6,
                ModelArchitecture.SmolLM3 => 2e6,
                ModelArchitecture.Ernie45 => 500000,
                _ => 10000,
            }, defaultPartial: architecture == ModelArchitecture.Glm4 ? 0.5 : 1);
            var config = new ModelConfig
            {
                Architecture = architecture,
                ModelType = modelType,
                VocabSize = vocab,
                HiddenSize = hidden,
                IntermediateSize = intermediate,
                NumHiddenLayers = layers,
                NumAttentionHeads = heads,
                NumKeyValueHeads = kvHeads,
                HeadDim = headDim ?? hidden / heads,
                // Gemma2 reads hidden_activation (older exports also carry a hidden_act, kept as written).
                HiddenAct = isGemma ? OptionalString("hidden_activation") ?? Peek("hidden_act") ?? "gelu_pytorch_tanh" : OptionalString("hidden_act") ?? "silu",
                RmsNormEps = OptionalDouble("rms_norm_eps") ?? architecture switch
                {
                    ModelArchitecture.Mixtral or ModelArchitecture.Olmo2 or ModelArchitecture.Olmo3 or ModelArchitecture.Exaone4 or ModelArchitecture.Ernie45 => 1e-5,
                    ModelArchitecture.Glm4 => 1.5625e-7,
                    _ => 1e-6,
                },
                RopeTheta = ropeTheta,
                RopeScaling = ropeScaling,
                PartialRotaryFactor = partialRotary,
                MaxPositionEmbeddings = OptionalInt("max_position_embeddings") ?? architecture switch
                {
                    ModelArchitecture.Llama or ModelArchitecture.Olmo2 or ModelArchitecture.Olmo3 or ModelArchitecture.Exaone4 => 2048,
                    ModelArchitecture.Qwen2 or ModelArchitecture.Qwen3 or ModelArchitecture.Qwen2Moe or ModelArchitecture.Qwen3Moe => 32768,
                    ModelArchitecture.Gemma2 => 8192,
                    ModelArchitecture.Gemma3 => 131072,
                    ModelArchitecture.SmolLM3 => 32768,
                    ModelArchitecture.Glm4 or ModelArchitecture.Ernie45 => 131072,
                ModelArchitecture.Phi3 => 4096,
                    _ => 4096 * 32,
                },
                TieWordEmbeddings = OptionalBool("tie_word_embeddings") ?? (isGemma || architecture is ModelArchitecture.SmolLM3 or ModelArchitecture.Ernie45),
                BosTokenIds = TokenIds("bos_token_id"),
                EosTokenIds = TokenIds("eos_token_id"),
                PadTokenId = ReadPadTokenId(),
                TorchDtype = OptionalString("torch_dtype") ?? OptionalString("dtype"),
            };

            config = architecture switch
            {
                ModelArchitecture.Llama => WithLlamaFields(config),
                ModelArchitecture.Mistral => WithWindow(config, defaultWindow: 4096),
                ModelArchitecture.Qwen2 => WithQwen2Fields(config),
                ModelArchitecture.Qwen3 => WithQwen3Fields(config),
                ModelArchitecture.Gemma2 => WithGemmaFields(config, softcaps: true),
                ModelArchitecture.Gemma3 => WithGemmaFields(config, softcaps: false) with { LocalRopeTheta = _localRopeTheta ?? 10000 },
                ModelArchitecture.Phi3 => WithWindow(config, defaultWindow: null),
                ModelArchitecture.Mixtral => WithMixtralFields(WithWindow(config, defaultWindow: null)),
                ModelArchitecture.Qwen2Moe or ModelArchitecture.Qwen3Moe => WithQwenMoeFields(config),
                ModelArchitecture.SmolLM3 => WithSmolLM3Fields(config),
                ModelArchitecture.Olmo2 => WithAttentionBias(config),
                // Olmo3Config: every fourth layer global.
                ModelArchitecture.Olmo3 => WithOlmo3Rope(WithLayerWindow(WithAttentionBias(config), i => (i + 1) % 4 != 0)),
                ModelArchitecture.Exaone4 => WithExaone4Fields(config),
                ModelArchitecture.Ernie45 => WithErnie45Fields(config),
                // Glm4Config: attention_bias (true) covers q, k and v; o has none. Padding id 151329 by default.
                ModelArchitecture.Glm4 => config with
                {
                    AttentionBias = OptionalBool("attention_bias") ?? true,
                    PadTokenId = root.TryGetProperty("pad_token_id", out _) ? config.PadTokenId : 151329,
                },
                _ => config,
            };
            config = WithLayerTypes(config);
            if (architecture == ModelArchitecture.Exaone4 && config.SlidingWindow is not null)
            {
                // EXAONE 4's global layers have no rotary positions when the model has a window.
                config = config with { RotaryLayers = config.SlidingLayers };
            }

            var rotaryHalf = (int)(config.HeadDim * config.PartialRotaryFactor) / 2;
            if (config.RopeScaling is { Type: "longrope", ShortFactor: { } factors } && factors.Count != rotaryHalf)
            {
                throw Error(source, $"longrope needs one short and one long factor per rotary frequency ({rotaryHalf} for a rotary width of "
                    + $"{rotaryHalf * 2}), found {factors.Count}");
            }

            var extras = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject())
            {
                if (!_consumed.Contains(p.Name))
                {
                    extras[p.Name] = p.Value.GetRawText();
                }
            }

            return config with { ExtraFields = extras.ToImmutable() };
        }

        private (ModelArchitecture, string) ResolveArchitecture()
        {
            var modelType = OptionalString("model_type");
            string? className = null;
            if (Take("architectures", out var list) && list.ValueKind != JsonValueKind.Null)
            {
                if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0 || list[0].ValueKind != JsonValueKind.String)
                {
                    throw Error(source, $"\"architectures\" must be a non-empty list of class names, found {list.GetRawText()}");
                }

                className = list[0].GetString()!;
            }

            var supported = string.Join(", ", SupportedArchitectures);
            if (className is not null)
            {
                foreach (var k in Known)
                {
                    if (k.ClassName == className)
                    {
                        return (k.Architecture, modelType ?? k.ModelType);
                    }
                }

                throw Error(source, $"architecture '{className}' is not supported; supported architectures: {supported}");
            }

            foreach (var k in Known)
            {
                if (k.ModelType == modelType)
                {
                    return (k.Architecture, modelType);
                }
            }

            throw Error(
                source,
                modelType is null
                    ? $"neither \"architectures\" nor \"model_type\" is given; supported architectures: {supported}"
                    : $"model_type '{modelType}' is not supported; supported architectures: {supported}");
        }

        /// <summary>attention_bias as Llama, Qwen3, OLMo and SmolLM3 read it: biases on all four attention projections.</summary>
        private ModelConfig WithAttentionBias(ModelConfig c)
        {
            var bias = OptionalBool("attention_bias") ?? false;
            return c with { AttentionBias = bias, AttentionOutputBias = bias };
        }

        private ModelConfig WithLlamaFields(ModelConfig c) => WithAttentionBias(c) with { MlpBias = OptionalBool("mlp_bias") ?? false };

        /// <summary>
        /// A window in the layers <paramref name="slides"/> picks (OLMo 3, EXAONE 4): sliding_window, 4096 when absent,
        /// unless layer_types (read after this) says otherwise.
        /// </summary>
        private ModelConfig WithLayerWindow(ModelConfig c, Func<int, bool> slides)
        {
            var window = Take("sliding_window", out var w) ? NullableInt("sliding_window", w) : 4096;
            return c with
            {
                SlidingWindow = window,
                UseSlidingWindow = window is not null,
                SlidingLayers = [.. Enumerable.Range(0, c.NumHiddenLayers).Select(i => window is not null && slides(i))],
            };
        }

        /// <summary>
        /// Exaone4Config's window: sliding_window (4096) in the layers sliding_window_pattern marks (an int n: all but
        /// every n-th, 4 by default; a string such as "LLLG": L local, G global, repeated, the last layer global),
        /// unless layer_types (read after this) says otherwise. The pattern is left in the file as written.
        /// </summary>
        private ModelConfig WithExaone4Fields(ModelConfig c)
        {
            var layers = c.NumHiddenLayers;
            Func<int, bool> slides = i => (i + 1) % 4 != 0;
            if (root.TryGetProperty("sliding_window_pattern", out var pattern))
            {
                if (pattern.ValueKind == JsonValueKind.Number && pattern.TryGetInt32(out var every) && every > 0)
                {
                    slides = i => (i + 1) % every != 0;
                }
                else if (pattern.ValueKind == JsonValueKind.String && pattern.GetString() is { Length: > 0 } letters && letters.All(l => l is 'L' or 'G'))
                {
                    slides = i => i != layers - 1 && letters[i % letters.Length] == 'L';
                }
                else if (pattern.ValueKind != JsonValueKind.Null)
                {
                    throw Error(source, $"sliding_window_pattern must be a positive integer or a string of L and G, found {pattern.GetRawText()}");
                }
            }

            return WithLayerWindow(c, slides);
        }

        /// <summary>
        /// OLMo 3 extends its context with YaRN on the global layers only (OLMo-core; transformers agrees from the
        /// release that writes its rope_parameters per layer type): a scaled checkpoint gets a second, unscaled rotation
        /// of the same base for its sliding layers. transformers 5.12 and earlier scaled every layer instead.
        /// </summary>
        private ModelConfig WithOlmo3Rope(ModelConfig c)
        {
            if (_localRopeTheta is { } local && local != c.RopeTheta)
            {
                throw Error(source, $"rope_parameters.sliding_attention.rope_theta {local} differs from the global layers' {c.RopeTheta}; OLMo 3 rotates all layers by one base");
            }

            return c.RopeScaling is null ? c : c with { LocalRopeTheta = c.RopeTheta };
        }

        /// <summary>Ernie4_5Config's use_bias: biases on all four attention projections and the three MLP ones.</summary>
        private ModelConfig WithErnie45Fields(ModelConfig c)
        {
            var bias = OptionalBool("use_bias") ?? false;
            return c with { AttentionBias = bias, AttentionOutputBias = bias, MlpBias = bias };
        }

        private ModelConfig WithWindow(ModelConfig c, int? defaultWindow)
        {
            var window = Take("sliding_window", out var w) ? NullableInt("sliding_window", w) : defaultWindow;
            return c with { SlidingWindow = window, UseSlidingWindow = window is not null };
        }

        private ModelConfig WithQwen2Fields(ModelConfig c)
        {
            var window = Take("sliding_window", out var w) ? NullableInt("sliding_window", w) : 4096;
            return c with
            {
                AttentionBias = true,
                SlidingWindow = window,
                UseSlidingWindow = OptionalBool("use_sliding_window") ?? false,
                MaxWindowLayers = OptionalInt("max_window_layers"),
            };
        }

        private ModelConfig WithQwen3Fields(ModelConfig c) => WithAttentionBias(WithQwen2Fields(c));

        /// <summary>
        /// Gemma2's and Gemma3's fields. Without layer_types, Gemma2 slides in layers 0, 2, 4, ... and Gemma3 in all but
        /// every sliding_window_pattern-th (6: layers 5, 11, ... are global; the pattern is kept as written). Gemma2's
        /// soft caps default to 50 and 30, Gemma3's to none.
        /// </summary>
        private ModelConfig WithGemmaFields(ModelConfig c, bool softcaps)
        {
            var bias = OptionalBool("attention_bias") ?? false;
            var scalar = OptionalInt("query_pre_attn_scalar") ?? 256;
            var window = Take("sliding_window", out var w) ? NullableInt("sliding_window", w) : 4096;
            var pattern = softcaps ? 2 : PeekInt("sliding_window_pattern") ?? 6;
            if (!softcaps && root.TryGetProperty("use_bidirectional_attention", out var bidirectional) && bidirectional.ValueKind == JsonValueKind.True)
            {
                throw Error(source, "use_bidirectional_attention is true: an encoder (EmbeddingGemma) is not a causal language model to fuse");
            }

            return c with
            {
                AttentionBias = bias,
                AttentionOutputBias = bias,
                SlidingWindow = window,
                UseSlidingWindow = window is not null,
                SlidingLayers = window is null
                    ? [.. Enumerable.Repeat(false, c.NumHiddenLayers)]
                    : [.. Enumerable.Range(0, c.NumHiddenLayers).Select(i => (i + 1) % pattern != 0)],
                QueryPreAttnScalar = scalar,
                AttnLogitSoftcapping = Softcap("attn_logit_softcapping", softcaps ? 50 : null),
                FinalLogitSoftcapping = Softcap("final_logit_softcapping", softcaps ? 30 : null),
            };

            double? Softcap(string key, double? fallback)
            {
                if (!Take(key, out var v))
                {
                    return fallback;
                }

                return v.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.Number when v.GetDouble() > 0 => v.GetDouble(),
                    _ => throw Error(source, $"\"{key}\" must be a positive number or null, found {v.GetRawText()}"),
                };
            }
        }

        /// <summary>
        /// transformers 5's layer_types: which layers slide. Supported where it says what the other fields say in our
        /// terms: Qwen2's full-attention layers followed by sliding ones (read as max_window_layers, which is written
        /// back), and for the other families all layers alike.
        /// </summary>
        private ModelConfig WithLayerTypes(ModelConfig c)
        {
            if (!Take("layer_types", out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return c;
            }

            if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
            {
                throw Error(source, $"layer_types must be a list of strings, found {value.GetRawText()}");
            }

            var types = value.EnumerateArray().Select(v => v.GetString()!).ToList();
            if (types.Count != c.NumHiddenLayers)
            {
                throw Error(source, $"layer_types lists {types.Count} layers but num_hidden_layers is {c.NumHiddenLayers}");
            }

            if (types.FirstOrDefault(t => t is not ("full_attention" or "sliding_attention")) is { } unknown)
            {
                throw Error(source, $"layer type '{unknown}' is not supported; supported: full_attention, sliding_attention");
            }

            if (c.HasLayerWindowFlags)
            {
                var sliding = types.Select(t => t == "sliding_attention").ToImmutableArray();
                if (sliding.Contains(true) && c.SlidingWindow is null)
                {
                    throw Error(source, $"layer_types [{string.Join(", ", types)}] name sliding layers but sliding_window is null");
                }

                return c with { SlidingLayers = sliding };
            }

            var first = types.IndexOf("sliding_attention");
            first = first < 0 ? types.Count : first;
            if (types.Skip(first).Any(t => t != "sliding_attention"))
            {
                throw Error(source, $"layer_types [{string.Join(", ", types)}] are not supported: sliding layers must follow all full-attention layers");
            }

            if (c.Architecture is ModelArchitecture.Qwen2 or ModelArchitecture.Qwen3)
            {
                return c with { MaxWindowLayers = first };
            }

            var slides = c.EffectiveSlidingWindow is not null;
            if (first != (slides ? 0 : types.Count))
            {
                throw Error(source, $"layer_types [{string.Join(", ", types)}] disagree with sliding_window {c.SlidingWindow?.ToString(CultureInfo.InvariantCulture) ?? "null"}: {c.Architecture} applies one attention to every layer");
            }

            return c;
        }

        private ModelConfig WithMixtralFields(ModelConfig c)
        {
            var experts = OptionalInt("num_local_experts") ?? 8;
            var perToken = OptionalInt("num_experts_per_tok") ?? 2;
            if (perToken > experts)
            {
                throw Error(source, $"num_experts_per_tok {perToken} exceeds num_local_experts {experts}");
            }

            return c with
            {
                NumLocalExperts = experts,
                NumExpertsPerTok = perToken,
                RouterAuxLossCoef = OptionalDouble("router_aux_loss_coef") ?? 0.001,
                RouterJitterNoise = OptionalDouble("router_jitter_noise"),
            };
        }

        /// <summary>
        /// SmolLM3's fields, with SmolLM3Config's defaults: its NoPE layers (no_rope_layers, or every
        /// no_rope_layer_interval-th layer, which is left in the file as written), Llama's biases, and padding id 128004.
        /// A sliding window (use_sliding_window, in the NoPE layers) is refused: SmolLM3-3B does not use one.
        /// </summary>
        private ModelConfig WithSmolLM3Fields(ModelConfig c)
        {
            var window = Take("sliding_window", out var w) ? NullableInt("sliding_window", w) : null;
            var slides = OptionalBool("use_sliding_window") ?? false;
            if (slides && window is not null)
            {
                throw Error(source, "use_sliding_window is true: SmolLM3's sliding windows in its NoPE layers are not supported");
            }

            ImmutableArray<bool> rotary;
            if (Take("no_rope_layers", out var list) && list.ValueKind != JsonValueKind.Null)
            {
                if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() != c.NumHiddenLayers
                    || list.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var flag) || flag is not (0 or 1)))
                {
                    throw Error(source, $"no_rope_layers must hold a 1 (rotary) or 0 (none) for each of the {c.NumHiddenLayers} layers, found {list.GetRawText()}");
                }

                rotary = [.. list.EnumerateArray().Select(v => v.GetInt32() == 1)];
            }
            else
            {
                var interval = PeekInt("no_rope_layer_interval") ?? 4;
                rotary = [.. Enumerable.Range(0, c.NumHiddenLayers).Select(i => (i + 1) % interval != 0)];
            }

            return WithLlamaFields(c) with
            {
                SlidingWindow = window,
                UseSlidingWindow = slides,
                RotaryLayers = rotary,
                PadTokenId = root.TryGetProperty("pad_token_id", out _) ? c.PadTokenId : 128004,
            };
        }

        /// <summary>
        /// Qwen2-MoE's and Qwen3-MoE's fields, with the defaults of their transformers configuration classes. Qwen3-MoE
        /// slides in every layer when use_sliding_window is set, as transformers does (its max_window_layers is kept as
        /// written and means nothing there). Qwen2-MoE's window pattern (every other layer below max_window_layers) is
        /// refused: no published Qwen2-MoE uses it.
        /// </summary>
        private ModelConfig WithQwenMoeFields(ModelConfig c)
        {
            var qwen2 = c.Architecture == ModelArchitecture.Qwen2Moe;
            // transformers 5's Qwen2MoeConfig writes a window of 0 when use_sliding_window is off.
            var window = Take("sliding_window", out var w)
                ? w.ValueKind == JsonValueKind.Number && w.TryGetInt32(out var none) && none == 0 ? null : NullableInt("sliding_window", w)
                : 4096;
            var slides = OptionalBool("use_sliding_window") ?? false;
            if (qwen2 && slides && window is not null)
            {
                throw Error(source, "use_sliding_window is true: Qwen2-MoE's sliding windows (every other layer below max_window_layers) are not supported");
            }

            var bias = qwen2 ? OptionalBool("qkv_bias") ?? true : OptionalBool("attention_bias") ?? false;
            // transformers 5 saves num_experts under its attribute name, num_local_experts; the published files say num_experts.
            var named = OptionalInt("num_experts");
            var attribute = OptionalInt("num_local_experts");
            if (named is not null && attribute is not null && named != attribute)
            {
                throw Error(source, $"num_experts {named} disagrees with num_local_experts {attribute}");
            }

            var experts = named ?? attribute ?? (qwen2 ? 60 : 128);
            var perToken = OptionalInt("num_experts_per_tok") ?? (qwen2 ? 4 : 8);
            if (perToken > experts)
            {
                throw Error(source, $"num_experts_per_tok {perToken} exceeds num_experts {experts}");
            }

            ImmutableArray<int> dense = [];
            if (Take("mlp_only_layers", out var list) && list.ValueKind != JsonValueKind.Null)
            {
                if (list.ValueKind != JsonValueKind.Array
                    || list.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i) || i < 0 || i >= c.NumHiddenLayers))
                {
                    throw Error(source, $"mlp_only_layers must list layer indices below num_hidden_layers {c.NumHiddenLayers}, found {list.GetRawText()}");
                }

                dense = [.. list.EnumerateArray().Select(v => v.GetInt32())];
            }

            return c with
            {
                // Qwen2-MoE's qkv_bias covers q, k and v; Qwen3-MoE's attention_bias covers o too.
                AttentionBias = bias,
                AttentionOutputBias = !qwen2 && bias,
                SlidingWindow = window,
                UseSlidingWindow = slides,
                NumLocalExperts = experts,
                NumExpertsPerTok = perToken,
                MoeIntermediateSize = OptionalInt("moe_intermediate_size") ?? (qwen2 ? 1408 : 768),
                SharedExpertIntermediateSize = qwen2 ? OptionalInt("shared_expert_intermediate_size") ?? 5632 : null,
                NormTopkProb = OptionalBool("norm_topk_prob") ?? false,
                DecoderSparseStep = OptionalInt("decoder_sparse_step") ?? 1,
                MlpOnlyLayers = dense,
                RouterAuxLossCoef = OptionalDouble("router_aux_loss_coef") ?? 0.001,
            };
        }

        /// <summary>
        /// RoPE's base and scaling from either spelling: transformers 4 writes "rope_theta" and "rope_scaling" at the
        /// top level, transformers 5 writes both inside "rope_parameters" (and reads the old one). Reading only the
        /// old keys would silently take the default base for a transformers 5 checkpoint; both present must agree.
        /// </summary>
        private (double Theta, RopeScaling? Scaling, double PartialRotary) ParseRope(double defaultTheta, double defaultPartial = 1)
        {
            var (theta, scaling, inner) = ParseRopeBaseAndScaling(defaultTheta);
            var top = OptionalDouble("partial_rotary_factor");
            if (top is not null && inner is not null && top != inner)
            {
                throw Error(source, $"partial_rotary_factor {top} disagrees with rope_parameters.partial_rotary_factor {inner}");
            }

            var partial = top ?? inner ?? defaultPartial;
            if (partial is <= 0 or > 1)
            {
                throw Error(source, $"partial_rotary_factor must be in (0, 1], found {partial}");
            }

            return (theta, scaling, partial);
        }

        private (double Theta, RopeScaling? Scaling, double? PartialRotary) ParseRopeBaseAndScaling(double defaultTheta)
        {
            var theta = OptionalDouble("rope_theta");
            var scaling = Take("rope_scaling", out var legacy) && legacy.ValueKind != JsonValueKind.Null
                ? ParseScaling("rope_scaling", legacy)
                : null;
            var gemma3 = _architecture == ModelArchitecture.Gemma3;
            if (gemma3)
            {
                _localRopeTheta = OptionalDouble("rope_local_base_freq");
            }

            if (!Take("rope_parameters", out var parameters) || parameters.ValueKind == JsonValueKind.Null)
            {
                return (theta ?? defaultTheta, scaling, null);
            }

            if (parameters.ValueKind != JsonValueKind.Object)
            {
                throw Error(source, $"rope_parameters must be an object or null, found {parameters.GetRawText()}");
            }

            JsonElement full;
            var key = "rope_parameters";
            if (!parameters.TryGetProperty("rope_type", out _) && !parameters.TryGetProperty("type", out _) &&
                !parameters.TryGetProperty("rope_theta", out _))
            {
                // transformers 5 writes Gemma3's two rotations per layer type: the global layers' (scaled for 4B and
                // up) and the sliding layers' (its own base, never scaled). Later 5.x releases do the same for OLMo 3,
                // whose sliding layers keep the unscaled rotation of the same base (YaRN on the global layers only).
                var names = parameters.EnumerateObject().Select(p => p.Name).ToList();
                var olmo3 = _architecture == ModelArchitecture.Olmo3;
                if (!(gemma3 || olmo3) || names.Any(n => n is not ("full_attention" or "sliding_attention")))
                {
                    throw Error(source, $"rope_parameters per layer type ({string.Join(", ", names)}) are not supported; one set for all layers is (Gemma3 and Olmo3: full_attention and sliding_attention)");
                }

                if (parameters.TryGetProperty("sliding_attention", out var sliding) && sliding.ValueKind != JsonValueKind.Null)
                {
                    var (localTheta, localScaling, _) = ParseRopeSet("rope_parameters.sliding_attention", sliding);
                    if (localScaling is not null)
                    {
                        throw Error(source, "rope_parameters.sliding_attention: scaling the sliding layers' rotation is not supported");
                    }

                    if (localTheta is not null && _localRopeTheta is not null && localTheta != _localRopeTheta)
                    {
                        throw Error(source, $"rope_local_base_freq {_localRopeTheta} disagrees with rope_parameters.sliding_attention.rope_theta {localTheta}");
                    }

                    _localRopeTheta ??= localTheta;
                }

                key = "rope_parameters.full_attention";
                if (!parameters.TryGetProperty("full_attention", out full) || full.ValueKind == JsonValueKind.Null)
                {
                    return (theta ?? defaultTheta, scaling, null);
                }
            }
            else
            {
                full = parameters;
            }

            var (innerTheta, innerScaling, partial) = ParseRopeSet(key, full);
            if (theta is not null && innerTheta is not null && theta != innerTheta)
            {
                throw Error(source, $"rope_theta {theta} disagrees with {key}.rope_theta {innerTheta}");
            }

            if (scaling is not null && scaling != innerScaling)
            {
                throw Error(source, $"rope_scaling disagrees with {key}");
            }

            return (theta ?? innerTheta ?? defaultTheta, scaling ?? innerScaling, partial);
        }

        /// <summary>One rotation's base, scaling and partial factor as transformers 5 writes them in rope_parameters.</summary>
        private (double? Theta, RopeScaling? Scaling, double? PartialRotary) ParseRopeSet(string key, JsonElement parameters)
        {
            if (parameters.ValueKind != JsonValueKind.Object)
            {
                throw Error(source, $"{key} must be an object or null, found {parameters.GetRawText()}");
            }

            double? theta = null;
            if (parameters.TryGetProperty("rope_theta", out var t))
            {
                theta = t.ValueKind == JsonValueKind.Number && t.GetDouble() > 0
                    ? t.GetDouble()
                    : throw Error(source, $"{key}.rope_theta must be a positive number, found {t.GetRawText()}");
            }

            var scaling = ParseScaling("rope_parameters", parameters);
            double? partial = null;
            if (parameters.TryGetProperty("partial_rotary_factor", out var p))
            {
                partial = p.ValueKind == JsonValueKind.Number
                    ? p.GetDouble()
                    : throw Error(source, $"{key}.partial_rotary_factor must be a number, found {p.GetRawText()}");
            }

            return (theta, scaling, partial);
        }

        private RopeScaling? ParseScaling(string key, JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                throw Error(source, $"{key} must be an object or null, found {value.GetRawText()}");
            }

            string? type = null;
            if (value.TryGetProperty("rope_type", out var t) || value.TryGetProperty("type", out t))
            {
                type = t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            }

            // rope_parameters without a type is the default rotation with only a base given.
            if (type == "default" || (type is null && key == "rope_parameters"))
            {
                return null;
            }

            // transformers' Phi3Config reads the older names of Phi-3's scaling, "su" and "yarn", as longrope.
            if (_architecture == ModelArchitecture.Phi3 && type is "longrope" or "su" or "yarn")
            {
                return ParseLongRope(key, value);
            }

            if (type == "yarn")
            {
                return ParseYarn(key, value);
            }

            if (type is not ("linear" or "llama3" or "dynamic"))
            {
                throw Error(source, $"{key} type '{type ?? "(missing)"}' is not supported; supported: default, linear (with a factor), llama3, yarn, dynamic, longrope (Phi3)");
            }

            var factor = Positive("factor");
            if (type is "linear" or "dynamic")
            {
                return new RopeScaling(type, factor);
            }

            var low = Positive("low_freq_factor");
            var high = Positive("high_freq_factor");
            if (high <= low)
            {
                throw Error(source, $"{key} of type llama3 needs high_freq_factor ({high}) above low_freq_factor ({low})");
            }

            var original = Positive("original_max_position_embeddings");
            if (original != Math.Floor(original) || original > int.MaxValue)
            {
                throw Error(source, $"{key}.original_max_position_embeddings must be a whole number, found {original}");
            }

            return new RopeScaling("llama3", factor) { LowFreqFactor = low, HighFreqFactor = high, OriginalMaxPositionEmbeddings = (int)original };

            double Positive(string name) =>
                value.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.GetDouble() > 0
                    ? v.GetDouble()
                    : throw Error(source, $"{key} of type {type} needs a positive numeric \"{name}\"");
        }

        /// <summary>
        /// Phi-3's LongRoPE, as transformers' Phi3Config reads it: a short and a long factor per rotary frequency; the
        /// original context is the top-level original_max_position_embeddings (4096 when absent), which wins over one
        /// inside the scaling; without a factor, the factor is max_position_embeddings over that original context.
        /// The top-level fields are only peeked at, so they are written back as they were.
        /// </summary>
        private RopeScaling ParseLongRope(string key, JsonElement value)
        {
            var shortFactor = Factors("short_factor");
            var longFactor = Factors("long_factor");
            if (shortFactor.Length != longFactor.Length)
            {
                throw Error(source, $"{key}: short_factor has {shortFactor.Length} entries and long_factor {longFactor.Length}; both need one per rotary frequency");
            }

            var original = PeekInt("original_max_position_embeddings") ?? 4096;
            double? factor = null;
            if (value.TryGetProperty("factor", out var f) && f.ValueKind != JsonValueKind.Null)
            {
                factor = f.ValueKind == JsonValueKind.Number && f.GetDouble() > 0
                    ? f.GetDouble()
                    : throw Error(source, $"{key}.factor must be a positive number, found {f.GetRawText()}");
            }

            double? attention = null;
            if (value.TryGetProperty("attention_factor", out var a) && a.ValueKind != JsonValueKind.Null)
            {
                attention = a.ValueKind == JsonValueKind.Number && a.GetDouble() > 0
                    ? a.GetDouble()
                    : throw Error(source, $"{key}.attention_factor must be a positive number, found {a.GetRawText()}");
            }

            var maxPositions = PeekInt("max_position_embeddings") ?? 4096;
            return new RopeScaling("longrope", factor ?? (double)maxPositions / original)
            {
                ShortFactor = shortFactor,
                LongFactor = longFactor,
                OriginalMaxPositionEmbeddings = original,
                AttentionFactor = attention,
                FactorDerived = factor is null,
            };

            double[] Factors(string name)
            {
                if (!value.TryGetProperty(name, out var list) || list.ValueKind != JsonValueKind.Array)
                {
                    throw Error(source, $"{key} of type longrope needs a list of numbers \"{name}\"");
                }

                return [.. list.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.GetDouble() > 0
                    ? e.GetDouble()
                    : throw Error(source, $"{key}.{name} must hold positive numbers, found {e.GetRawText()}"))];
            }
        }

        /// <summary>
        /// YaRN as transformers reads it: a factor (at least 1), the original context (inside the scaling, else
        /// max_position_embeddings), and the optional attention_factor, beta_fast, beta_slow, mscale, mscale_all_dim and
        /// truncate, each written back only when given.
        /// </summary>
        private RopeScaling ParseYarn(string key, JsonElement value)
        {
            var factor = value.TryGetProperty("factor", out var f) && f.ValueKind == JsonValueKind.Number && f.GetDouble() >= 1
                ? f.GetDouble()
                : throw Error(source, $"{key} of type yarn needs a numeric \"factor\" of at least 1");
            int original;
            if (value.TryGetProperty("original_max_position_embeddings", out var o) && o.ValueKind != JsonValueKind.Null)
            {
                original = o.ValueKind == JsonValueKind.Number && o.TryGetInt32(out var whole) && whole > 0
                    ? whole
                    : throw Error(source, $"{key}.original_max_position_embeddings must be a positive whole number, found {o.GetRawText()}");
            }
            else
            {
                original = PeekInt("max_position_embeddings") ?? throw Error(source, $"{key} of type yarn needs original_max_position_embeddings (or max_position_embeddings)");
            }

            bool? truncate = null;
            if (value.TryGetProperty("truncate", out var t) && t.ValueKind != JsonValueKind.Null)
            {
                truncate = t.ValueKind is JsonValueKind.True or JsonValueKind.False
                    ? t.GetBoolean()
                    : throw Error(source, $"{key}.truncate must be true or false, found {t.GetRawText()}");
            }

            return new RopeScaling("yarn", factor)
            {
                OriginalMaxPositionEmbeddings = original,
                AttentionFactor = Number("attention_factor", positive: true),
                BetaFast = Number("beta_fast", positive: true),
                BetaSlow = Number("beta_slow", positive: true),
                Mscale = Number("mscale", positive: false),
                MscaleAllDim = Number("mscale_all_dim", positive: false),
                Truncate = truncate,
            };

            double? Number(string name, bool positive)
            {
                if (!value.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
                return v.ValueKind == JsonValueKind.Number && (!positive || v.GetDouble() > 0)
                    ? v.GetDouble()
                    : throw Error(source, $"{key}.{name} must be a {(positive ? "positive " : "")}number, found {v.GetRawText()}");
            }
        }

        /// <summary>An integer field's value without consuming it (null when absent or null).</summary>
        private int? PeekInt(string key) =>
            root.TryGetProperty(key, out var v) ? NullableInt(key, v) : null;

        /// <summary>A string field's value without consuming it, so that it is written back as it was.</summary>
        private string? Peek(string key) =>
            root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        private bool Take(string key, out JsonElement value)
        {
            if (root.TryGetProperty(key, out value))
            {
                _consumed.Add(key);
                return true;
            }

            return false;
        }

        private int RequiredInt(string key)
            => OptionalInt(key) ?? throw Error(source, $"required field \"{key}\" is missing");

        private int? OptionalInt(string key)
        {
            if (!Take(key, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return NullableInt(key, v) ?? throw Error(source, $"\"{key}\" must be a positive integer, found {v.GetRawText()}");
        }

        private int? NullableInt(string key, JsonElement v)
        {
            if (v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i) || i <= 0)
            {
                throw Error(source, $"\"{key}\" must be a positive integer, found {v.GetRawText()}");
            }

            return i;
        }

        private double? OptionalDouble(string key)
        {
            if (!Take(key, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return v.ValueKind == JsonValueKind.Number
                ? v.GetDouble()
                : throw Error(source, $"\"{key}\" must be a number, found {v.GetRawText()}");
        }

        private bool? OptionalBool(string key)
        {
            if (!Take(key, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(source, $"\"{key}\" must be true or false, found {v.GetRawText()}"),
            };
        }

        private string? OptionalString(string key)
        {
            if (!Take(key, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return v.ValueKind == JsonValueKind.String
                ? v.GetString()
                : throw Error(source, $"\"{key}\" must be a string, found {v.GetRawText()}");
        }

        /// <summary>
        /// pad_token_id: an id, or null; ids outside [-vocab_size, vocab_size) are taken as no padding row, as some
        /// configs carry a pad id of the tokenizer beyond the embedding.
        /// </summary>
        private int? ReadPadTokenId()
        {
            if (!Take("pad_token_id", out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var id)
                ? id
                : throw Error(source, $"\"pad_token_id\" must be a token id or null, found {v.GetRawText()}");
        }

        private ImmutableArray<int> TokenIds(string key)
        {
            if (!Take(key, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return [];
            }

            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var single) && single >= 0)
            {
                return [single];
            }

            if (v.ValueKind == JsonValueKind.Array)
            {
                var ids = ImmutableArray.CreateBuilder<int>();
                foreach (var e in v.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var id) || id < 0)
                    {
                        throw Error(source, $"\"{key}\" must be a token id or a list of token ids, found {v.GetRawText()}");
                    }

                    ids.Add(id);
                }

                return ids.ToImmutable();
            }

            throw Error(source, $"\"{key}\" must be a token id or a list of token ids, found {v.GetRawText()}");
        }
    }
}
