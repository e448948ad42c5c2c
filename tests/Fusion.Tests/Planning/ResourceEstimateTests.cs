using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Tests.Checkpoints;
using FuseChat.Fusion.Planning;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Planning;

public sealed class ResourceEstimateTests
{
    private static ModelConfig Mixtral(int experts, int perToken) => ModelConfig.Parse($$"""
        {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "vocab_size": 100, "hidden_size": 16,
         "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2,
         "rms_norm_eps": 1e-5, "max_position_embeddings": 64, "num_local_experts": {{experts}}, "num_experts_per_tok": {{perToken}}}
        """);

    [Fact]
    public void A_mixture_of_experts_counts_every_expert_but_only_the_routed_ones_per_token()
    {
        // Shared: embeddings and head 2 x 100 x 16, attention 4 x 16 x 16, router 4 x 16, three norms of 16.
        const long shared = (2 * 100 * 16) + (4 * 16 * 16) + (4 * 16) + (3 * 16);
        const long expert = 3 * 16 * 32;

        var config = Mixtral(experts: 4, perToken: 2);

        Assert.Equal(shared + (4 * expert), ResourceEstimate.Parameters(config));
        Assert.Equal(shared + (2 * expert), ResourceEstimate.ActiveParameters(config));
        Assert.Equal(2.0 * (shared + (2 * expert)) * 10, ResourceEstimate.ForwardFlops(ResourceEstimate.ActiveParameters(config), 10));
    }

    [Theory]
    [InlineData(DType.Float32, 4 + 4 + 8, 4 + 8)]
    [InlineData(DType.BFloat16, 2 + 2 + 8 + 4, 2 + 8 + 4)]
    public void Training_state_and_checkpoints_hold_weights_moments_and_masters(DType dtype, int stateBytesPerParameter, int checkpointBytesPerParameter)
    {
        Assert.Equal(1000L * stateBytesPerParameter, ResourceEstimate.TrainingStateBytes(1000, dtype));
        Assert.Equal(1000L * checkpointBytesPerParameter, ResourceEstimate.CheckpointBytes(1000, dtype));
        Assert.Throws<ArgumentException>(() => ResourceEstimate.CheckpointBytes(1000, DType.Int64));
    }

    [Theory]
    [InlineData(DType.Float32, 4 + 4, 4 + 8 + 4)]
    [InlineData(DType.BFloat16, 2 + 2, 2 + 8 + 4)]
    public void Offloading_leaves_weights_and_gradients_on_the_device_and_twelve_bytes_per_parameter_on_the_host(DType dtype, int deviceBytesPerParameter, int checkpointBytesPerParameter)
    {
        Assert.Equal(1000L * deviceBytesPerParameter, ResourceEstimate.TrainingStateBytes(1000, dtype, offloaded: true));
        Assert.Equal(1000L * 12, ResourceEstimate.OffloadedStateBytes(1000));
        // An offloaded f32 run keeps a master of every weight, and its checkpoints save them.
        Assert.Equal(1000L * checkpointBytesPerParameter, ResourceEstimate.CheckpointBytes(1000, dtype, offloaded: true));
    }

    private static readonly ModelConfig Llama7B = ModelConfig.Parse("""
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000, "hidden_size": 4096,
         "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
         "rms_norm_eps": 1e-5, "max_position_embeddings": 4096}
        """);

    [Fact]
    public void Activations_of_a_7B_sequence_shrink_to_one_hidden_state_per_layer_with_checkpointing()
    {
        // Per token and layer: 9 x 4096 (norms, attention, output projection) + 2 x 1024 (k, v of 8 heads of 128)
        // + 4 x 11008 (SwiGLU) = 82,944 elements. Head (2048 positions fit one chunk of 2097 at this vocabulary): the last
        // layer's output gradient 4096, final norm 3 x 4096 and the logits, in bf16, plus 20 bytes per logit for the
        // loss's fp32 copies and gradients.
        const long perLayer = (9 * 4096) + (2 * 1024) + (4 * 11008);
        const long head = (4 * 4096) + 32000;
        Assert.Equal(2048L * ((((32 * perLayer) + head) * 2) + (20 * 32000)), ResourceEstimate.ActivationBytes(Llama7B, 2048, DType.BFloat16, checkpointing: false));
        Assert.Equal(2048L * ((((32 * 4096) + perLayer + head) * 2) + (20 * 32000)), ResourceEstimate.ActivationBytes(Llama7B, 2048, DType.BFloat16, checkpointing: true));
        // About 11.5 GiB against 2.2 GiB for one 2048-token sequence.
        Assert.InRange(ResourceEstimate.ActivationBytes(Llama7B, 2048, DType.BFloat16, false) / (double)(1L << 30), 11.3, 11.7);
        Assert.InRange(ResourceEstimate.ActivationBytes(Llama7B, 2048, DType.BFloat16, true) / (double)(1L << 30), 2.1, 2.3);
        // A longer sequence adds to the head only the output gradient: the logits exist one chunk at a time.
        var longer = ResourceEstimate.ActivationBytes(Llama7B, 8192, DType.BFloat16, checkpointing: true);
        Assert.Equal(8192L * (((32 * 4096) + perLayer + 4096) * 2) + (2097L * ((((3 * 4096) + 32000) * 2) + (20 * 32000))), longer);
    }

    [Fact]
    public void A_token_of_a_mixture_passes_through_the_mlps_of_its_routed_experts_only()
    {
        // hidden 16, key-value width 2 heads x 8, intermediate 32, vocabulary 100, float32.
        long Expected(int perToken) => 10L * (((1 * ((9 * 16) + (2 * 16) + (4 * 32 * perToken))) + (4 * 16) + 100) * 4 + (20 * 100));
        Assert.Equal(Expected(2), ResourceEstimate.ActivationBytes(Mixtral(experts: 4, perToken: 2), 10, DType.Float32, checkpointing: false));
        Assert.Equal(Expected(1), ResourceEstimate.ActivationBytes(Mixtral(experts: 4, perToken: 1), 10, DType.Float32, checkpointing: false));
    }

    [Fact]
    public void A_Qwen_mixture_counts_expert_widths_the_shared_expert_and_its_dense_layers()
    {
        // hidden 16, 2 layers, key-value width 2 heads x 8, dense intermediate 32, 4 experts of width 8 with 2 per token,
        // a shared expert of width 12; layer 0 dense by mlp_only_layers; float32, vocabulary 100.
        var config = ModelConfig.Parse("""
            {"architectures": ["Qwen2MoeForCausalLM"], "vocab_size": 100, "hidden_size": 16, "intermediate_size": 32,
             "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 2, "num_experts": 4, "num_experts_per_tok": 2,
             "moe_intermediate_size": 8, "shared_expert_intermediate_size": 12, "mlp_only_layers": [0]}
            """);
        // Attention (q, k, v, o with q/k/v biases), two norms per layer; router 4 x 16; shared expert 3 x 16 x 12 and its gate 16.
        const long attention = (4 * 16 * 16) + (3 * 16) + (2 * 16);
        const long dense = 3 * 16 * 32;
        const long sparseShared = (4 * 16) + (3 * 16 * 12) + 16;
        const long expert = 3 * 16 * 8;
        const long outer = (2 * 100 * 16) + 16;
        Assert.Equal(outer + (2 * attention) + dense + sparseShared + (4 * expert), ResourceEstimate.Parameters(config));
        Assert.Equal(outer + (2 * attention) + dense + sparseShared + (2 * expert), ResourceEstimate.ActiveParameters(config));

        const long common = (9 * 16) + (2 * 16);
        const long head = ((4 * 16) + 100) * 4 + (20 * 100);
        Assert.Equal(10L * ((((common + (4 * 32)) + (common + (4 * 8 * 2) + (4 * 12))) * 4) + head),
            ResourceEstimate.ActivationBytes(config, 10, DType.Float32, checkpointing: false));
        // With checkpointing one layer's tensors exist at a time: the larger, the dense one here.
        Assert.Equal(10L * ((((2 * 16) + common + (4 * 32)) * 4) + head), ResourceEstimate.ActivationBytes(config, 10, DType.Float32, checkpointing: true));
    }

    [Fact]
    public void Gemma2_adds_two_norms_a_capped_logit_copy_and_eager_scores_that_grow_with_the_square_of_the_length()
    {
        // hidden 32, 4 heads, key-value width 2 heads x 16, intermediate 48, vocabulary 97, 2 layers, bf16.
        var gemma = ModelConfig.Parse("""
            {"architectures": ["Gemma2ForCausalLM"], "vocab_size": 97, "hidden_size": 32, "intermediate_size": 48,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16}
            """);
        long Expected(long tokens, bool checkpointing)
        {
            var perLayer = (((12 * 32) + (3 * 32) + (2 * 32) + (4 * 48)) * 2) + (4 * tokens * ((2 * 2) + 4));
            var layers = checkpointing ? (2 * 32 * 2) + perLayer : 2 * perLayer;
            return tokens * (layers + (4 * 32 * 2) + (97 * 2 * 2) + (20 * 97));
        }

        Assert.Equal(Expected(100, false), ResourceEstimate.ActivationBytes(gemma, 100, DType.BFloat16, checkpointing: false));
        Assert.Equal(Expected(100, true), ResourceEstimate.ActivationBytes(gemma, 100, DType.BFloat16, checkpointing: true));
        // Gemma-2-9B at 2048 tokens: the eager scores alone are 16 heads x 2048^2 x 8 bytes = 512 MiB per layer.
        var gemma9B = ModelConfig.Parse(ConfigSamples.Gemma2_9B_It);
        var plain = ResourceEstimate.ActivationBytes(gemma9B, 2048, DType.BFloat16, checkpointing: false);
        Assert.True(plain > 42 * (512L << 20), $"{plain} bytes");
    }

    [Fact]
    public void Shards_hold_every_token_and_the_top_k_of_each_trained_position()
    {
        // 100 tokens: ids (4 bytes) and trained flags (13 bytes of bits); 30 trained positions: index and K x (int32 + fp16).
        Assert.Equal((100 * 4) + 13 + (30 * (4 + (6 * 10))), ResourceEstimate.RepresentationBytesBound(100, 30, 10));
    }
}
