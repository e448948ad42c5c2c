using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Training;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Training;

/// <summary>A tiny model and a learnable fusion data set: the next token is a fixed function of the current one.</summary>
internal static class TrainingFixtures
{
    public const int Vocab = 50;
    public const int K = 4;

    public const string ConfigJson = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 50, "hidden_size": 16,
         "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
         "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 64, "tie_word_embeddings": false,
         "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "torch_dtype": "float32"}
        """;

    public static ModelConfig Config => ModelConfig.Parse(ConfigJson);

    public static LlamaModel NewModel(DType dtype = DType.Float32, int seed = 0)
    {
        TorchRuntime.ManualSeed((ulong)seed);
        return new LlamaModel(DecoderConfig.From(Config), dtype);
    }

    public static long Next(long token) => (token * 7 + 3) % Vocab;

    /// <summary>
    /// One conversation of <paramref name="length"/> tokens: labels are the shifted ids (the first two positions
    /// untrained, like a masked prompt; the last has no next token), targets put most mass on the gold token.
    /// </summary>
    public static (long[] Ids, long[] Labels, TopKTargets Targets) Conversation(int seed, int length)
    {
        var random = new Random(seed);
        var ids = new long[length];
        ids[0] = random.Next(Vocab);
        for (var t = 1; t < length; t++) ids[t] = Next(ids[t - 1]);
        var labels = new long[length];
        for (var t = 0; t < length; t++) labels[t] = t < 2 || t == length - 1 ? FusionLoss.IgnoreIndex : ids[t + 1];
        var targetIds = new long[length * K];
        var targetLogits = new float[length * K];
        for (var t = 0; t < length; t++)
        {
            var gold = Next(ids[t]);
            targetIds[t * K] = gold;
            targetLogits[t * K] = 4f;
            for (var k = 1; k < K; k++)
            {
                targetIds[t * K + k] = (gold + k * 11) % Vocab;
                targetLogits[t * K + k] = (float)random.NextDouble();
            }
            if (t % 5 == 4) // a padded slot now and then
            {
                targetIds[t * K + K - 1] = 0;
                targetLogits[t * K + K - 1] = float.NegativeInfinity;
            }
        }
        return (ids, labels, new TopKTargets(length, K, targetIds, targetLogits));
    }

    /// <summary><paramref name="count"/> batches of <paramref name="batchSize"/> conversations.</summary>
    public static List<FusionBatch> Batches(int count, int batchSize = 2, int length = 10, int seed = 0)
    {
        using var scope = DisposeScope.Open();
        var batches = new List<FusionBatch>();
        for (var b = 0; b < count; b++)
        {
            var rows = Enumerable.Range(0, batchSize).Select(i => Conversation(seed + 1000 * b + i, length)).ToList();
            batches.Add(new FusionBatch(
                Tensor.From<long>(rows.SelectMany(r => r.Ids).ToArray(), [batchSize, length]),
                Tensor.From<long>(rows.SelectMany(r => r.Labels).ToArray(), [batchSize, length]),
                Tensor.From<long>(rows.SelectMany(r => r.Targets.Ids).ToArray(), [batchSize, length, K]),
                Tensor.From<float>(rows.SelectMany(r => r.Targets.Logits).ToArray(), [batchSize, length, K])));
        }
        return batches;
    }

    public static void CopyWeights(LlamaModel from, LlamaModel to)
    {
        var source = from.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor);
        using var noGrad = NoGradScope.Enter();
        foreach (var (name, tensor) in to.NamedParameters()) tensor.CopyFrom(source[name]);
    }

    public static byte[] Bytes(Tensor t)
    {
        using var scope = DisposeScope.Open();
        var host = t.Detach().To(Device.Cpu).Contiguous();
        var bytes = new byte[host.NumberOfElements * host.ElementSize];
        host.CopyBytesTo(bytes);
        return bytes;
    }

    public static Dictionary<string, byte[]> WeightBytes(LlamaModel model) =>
        model.NamedParameters().ToDictionary(p => p.Name, p => Bytes(p.Tensor));

    public static List<byte[]> OptimizerBytes(FusionTrainer trainer) =>
        trainer.Optimizer.ExpAvg.Concat(trainer.Optimizer.ExpAvgSq).Concat(trainer.Optimizer.MasterWeights.Where(m => m is not null).Select(m => m!))
            .Select(Bytes).ToList();
}
