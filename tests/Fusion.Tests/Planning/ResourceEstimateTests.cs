using FuseChat.Fusion.Checkpoints;
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

    [Fact]
    public void Shards_hold_every_token_and_the_top_k_of_each_trained_position()
    {
        // 100 tokens: ids (4 bytes) and trained flags (13 bytes of bits); 30 trained positions: index and K x (int32 + fp16).
        Assert.Equal((100 * 4) + 13 + (30 * (4 + (6 * 10))), ResourceEstimate.RepresentationBytesBound(100, 30, 10));
    }
}
