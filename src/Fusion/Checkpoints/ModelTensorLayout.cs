using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// The tensors (names and shapes) a Hugging Face checkpoint of a given <see cref="ModelConfig"/>
/// must contain, and a check of a checkpoint against them.
/// </summary>
public sealed partial class ModelTensorLayout
{
    private readonly Dictionary<string, ExpectedTensor> _byName;

    private ModelTensorLayout(ModelConfig config, ImmutableArray<ExpectedTensor> tensors)
    {
        Config = config;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The config the layout was derived from.</summary>
    public ModelConfig Config { get; }

    /// <summary>Every expected tensor: embedding, layers in order, final norm, then lm_head unless tied.</summary>
    public ImmutableArray<ExpectedTensor> Tensors { get; }

    /// <summary>Derives the layout of a config's architecture.</summary>
    /// <param name="config">The model config.</param>
    /// <returns>The layout.</returns>
    public static ModelTensorLayout For(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long vocab = config.VocabSize;
        long hidden = config.HiddenSize;
        long inter = config.IntermediateSize;
        long q = (long)config.NumAttentionHeads * config.HeadDim;
        long kv = (long)config.NumKeyValueHeads * config.HeadDim;

        var list = ImmutableArray.CreateBuilder<ExpectedTensor>();
        void Add(string name, params long[] shape) => list.Add(new ExpectedTensor(name, [.. shape]));

        // A gated MLP (gate and up [width, hidden], down [hidden, width]) under a family's names.
        void AddExpert(string prefix, (string Gate, string Down, string Up) names, long width)
        {
            Add(prefix + names.Gate + ".weight", width, hidden);
            Add(prefix + names.Down + ".weight", hidden, width);
            Add(prefix + names.Up + ".weight", width, hidden);
        }

        // A sparse MLP: the router, then each expert.
        void AddExperts(string prefix, int experts, (string Gate, string Down, string Up) names, long width)
        {
            Add(prefix + "gate.weight", experts, hidden);
            for (var e = 0; e < experts; e++)
            {
                AddExpert(string.Create(CultureInfo.InvariantCulture, $"{prefix}experts.{e}."), names, width);
            }
        }

        Add("model.embed_tokens.weight", vocab, hidden);
        var sparse = config.SparseLayers;
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            var p = string.Create(CultureInfo.InvariantCulture, $"model.layers.{i}.");
            var exaone = config.Architecture == ModelArchitecture.Exaone4;
            var olmo2 = config.IsOlmo || exaone;
            if (!olmo2)
            {
                // OLMo 2, OLMo 3 and EXAONE 4 norm only the sublayers' outputs.
                Add(p + "input_layernorm.weight", hidden);
            }

            var phi3 = config.Architecture == ModelArchitecture.Phi3;
            if (phi3)
            {
                // Phi3 keeps q, k and v in one matrix, in that order.
                Add(p + "self_attn.qkv_proj.weight", q + (2 * kv), hidden);
            }
            else
            {
                Add(p + "self_attn.q_proj.weight", q, hidden);
                Add(p + "self_attn.k_proj.weight", kv, hidden);
                Add(p + "self_attn.v_proj.weight", kv, hidden);
            }

            Add(p + "self_attn.o_proj.weight", hidden, q);
            if (config.AttentionBias)
            {
                Add(p + "self_attn.q_proj.bias", q);
                Add(p + "self_attn.k_proj.bias", kv);
                Add(p + "self_attn.v_proj.bias", kv);
            }

            if (config.AttentionOutputBias)
            {
                Add(p + "self_attn.o_proj.bias", hidden);
            }

            if (config.Architecture is ModelArchitecture.Qwen3 or ModelArchitecture.Qwen3Moe or ModelArchitecture.Gemma3 || exaone)
            {
                Add(p + "self_attn.q_norm.weight", config.HeadDim);
                Add(p + "self_attn.k_norm.weight", config.HeadDim);
            }
            else if (olmo2)
            {
                // Over the whole projections, before the heads are split.
                Add(p + "self_attn.q_norm.weight", q);
                Add(p + "self_attn.k_norm.weight", kv);
            }

            var glm = config.Architecture == ModelArchitecture.Glm4;
            if (glm)
            {
                // GLM-4 norms the attention's output, the MLP's input (post_attention_layernorm) and the MLP's output.
                Add(p + "post_self_attn_layernorm.weight", hidden);
                Add(p + "post_mlp_layernorm.weight", hidden);
            }

            Add(p + "post_attention_layernorm.weight", hidden);
            if (config.IsGemma)
            {
                Add(p + "pre_feedforward_layernorm.weight", hidden);
            }

            if (config.IsGemma || olmo2)
            {
                Add(p + "post_feedforward_layernorm.weight", hidden);
            }

            if (config.Architecture == ModelArchitecture.Mixtral)
            {
                var experts = config.NumLocalExperts ?? throw new ArgumentException("A Mixtral config needs num_local_experts.", nameof(config));
                AddExperts(p + "block_sparse_moe.", experts, ("w1", "w2", "w3"), inter);
            }
            else if (config.IsQwenMoe && sparse[i])
            {
                AddExperts(p + "mlp.", config.NumLocalExperts!.Value, ("gate_proj", "down_proj", "up_proj"), config.MoeIntermediateSize!.Value);
                if (config.SharedExpertIntermediateSize is { } shared)
                {
                    AddExpert(p + "mlp.shared_expert.", ("gate_proj", "down_proj", "up_proj"), shared);
                    Add(p + "mlp.shared_expert_gate.weight", 1, hidden);
                }
            }
            else if (phi3 || glm)
            {
                // Gate then up in one matrix.
                Add(p + "mlp.gate_up_proj.weight", 2 * inter, hidden);
                Add(p + "mlp.down_proj.weight", hidden, inter);
            }
            else
            {
                Add(p + "mlp.gate_proj.weight", inter, hidden);
                Add(p + "mlp.up_proj.weight", inter, hidden);
                Add(p + "mlp.down_proj.weight", hidden, inter);
                if (config.MlpBias)
                {
                    Add(p + "mlp.gate_proj.bias", inter);
                    Add(p + "mlp.up_proj.bias", inter);
                    Add(p + "mlp.down_proj.bias", hidden);
                }
            }
        }

        Add("model.norm.weight", hidden);
        if (!config.TieWordEmbeddings)
        {
            Add("lm_head.weight", vocab, hidden);
        }

        return new ModelTensorLayout(config, list.ToImmutable());
    }

    /// <summary>Whether the architecture expects a tensor of that name.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>True when expected.</returns>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Looks an expected tensor up by name.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="tensor">The expectation when found.</param>
    /// <returns>True when expected.</returns>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ExpectedTensor? tensor)
        => _byName.TryGetValue(name, out tensor);

    /// <summary>
    /// Every difference between the checkpoint and this layout: missing tensors, tensors the
    /// architecture does not have, and tensors of the wrong shape, each naming the tensor (and the
    /// shard file where it has one). Empty when the checkpoint matches.
    /// </summary>
    /// <param name="checkpoint">The checkpoint to check.</param>
    /// <returns>One line per problem.</returns>
    public IReadOnlyList<string> FindProblems(CheckpointReader checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var problems = new List<string>();
        foreach (var expected in Tensors)
        {
            if (!checkpoint.Contains(expected.Name))
            {
                problems.Add($"missing tensor '{expected.Name}' (expected shape {expected.FormatShape()})");
                continue;
            }

            var actual = checkpoint.GetTensor(expected.Name);
            if (!actual.Shape.AsSpan().SequenceEqual(expected.Shape.AsSpan()))
            {
                problems.Add(
                    $"tensor '{expected.Name}' in '{checkpoint.ShardOf(expected.Name)}' has shape {actual.FormatShape()}, expected {expected.FormatShape()}");
            }
        }

        foreach (var name in checkpoint.TensorNames)
        {
            if (_byName.ContainsKey(name) || IsTolerated(name, checkpoint))
            {
                continue;
            }

            problems.Add($"unexpected tensor '{name}' in '{checkpoint.ShardOf(name)}' (not part of a {Config.ArchitectureName} checkpoint)");
        }

        return problems;
    }

    /// <summary>Throws when the checkpoint does not match this layout, listing all problems at once.</summary>
    /// <param name="checkpoint">The checkpoint to check.</param>
    /// <exception cref="CheckpointValidationException">Some tensors are missing, unexpected or misshaped.</exception>
    public void Validate(CheckpointReader checkpoint)
    {
        var problems = FindProblems(checkpoint);
        if (problems.Count > 0)
        {
            throw new CheckpointValidationException(
                $"Checkpoint '{checkpoint.Folder}' does not match the {Config.ArchitectureName} layout of its config ({problems.Count} problem(s)):",
                problems)
            {
                FilePath = checkpoint.Folder,
            };
        }
    }

    [GeneratedRegex(@"^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$", RegexOptions.CultureInvariant)]
    private static partial Regex RotaryBufferPattern();

    // Old exports saved the rotary inv_freq buffer, and some tied models still save lm_head;
    // transformers ignores both when loading, so they are not errors.
    private bool IsTolerated(string name, CheckpointReader checkpoint)
    {
        if (RotaryBufferPattern().IsMatch(name))
        {
            return true;
        }

        return name == "lm_head.weight"
            && Config.TieWordEmbeddings
            && checkpoint.GetTensor(name).Shape.AsSpan().SequenceEqual([(long)Config.VocabSize, Config.HiddenSize]);
    }
}
