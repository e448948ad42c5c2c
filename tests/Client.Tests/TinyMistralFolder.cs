using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Testing.Support;
using FuseChat.Torch;

namespace FuseChat.Client.Tests;

/// <summary>A one-layer Mistral model folder with random weights and the Llama-2 (Mistral) tokenizer from the npm fixtures.</summary>
internal static class TinyMistralFolder
{
    /// <summary>
    /// Its parameters: embeddings and head 2 x 32000 x 16, attention 16x16 + 8x16 + 8x16 + 16x16 (two heads of 8, one
    /// key/value head), MLP 3 x 16 x 32, three norms of 16.
    /// </summary>
    public const long Parameters = (2 * 32000 * 16) + (256 + 128 + 128 + 256) + (3 * 16 * 32) + (3 * 16);

    /// <summary>Writes the model into <paramref name="folder"/> and returns it.</summary>
    public static string Create(string folder, ulong seed)
    {
        var config = ModelConfig.Parse("""
            {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "vocab_size": 32000, "hidden_size": 16,
             "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
             "rms_norm_eps": 1e-5, "max_position_embeddings": 128, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2}
            """);
        TorchRuntime.ManualSeed(seed);
        using var model = new LlamaModel(DecoderConfig.From(config));
        PretrainedModel.Save(model, config, folder);
        var tokenizer = Path.Combine(RepositoryRoot.Path, "tests", "fixtures", "npm", "node_modules", "@lenml", "tokenizer-llama2", "models");
        Assert.True(Directory.Exists(tokenizer), $"{tokenizer} is missing: run tests/fixtures/fetch-npm.sh");
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(tokenizer, file), Path.Combine(folder, file));
        return folder;
    }
}
