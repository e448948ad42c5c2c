using FuseChat.Client.Commands;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Torch;
using FuseChat.Testing.Support;

namespace FuseChat.Client.Tests;

public sealed class GenerateCommandTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "fusechat-generate-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    private static string Llama2Tokenizer()
    {
        var models = Path.Combine(RepositoryRoot.Path, "tests", "fixtures", "npm", "node_modules", "@lenml", "tokenizer-llama2", "models");
        Assert.True(Directory.Exists(models), $"{models} is missing: run tests/fixtures/fetch-npm.sh");
        return models;
    }

    private void MakeModel()
    {
        var config = ModelConfig.Parse("""
            {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "vocab_size": 32000, "hidden_size": 16,
             "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
             "rms_norm_eps": 1e-5, "max_position_embeddings": 128, "sliding_window": 4096, "hidden_act": "silu",
             "bos_token_id": 1, "eos_token_id": 2}
            """);
        TorchRuntime.ManualSeed(5);
        using var model = new LlamaModel(DecoderConfig.From(config));
        PretrainedModel.Save(model, config, folder);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(Llama2Tokenizer(), file), Path.Combine(folder, file));
    }

    [Fact]
    public void GeneratesADeterministicReplyWithTheNamedTemplate()
    {
        MakeModel();
        var options = new GenerationOptions { MaxNewTokens = 12 };
        var first = new StringWriter();
        var second = new StringWriter();
        Assert.Equal(0, GenerateCommand.Run(folder, "Hello there", null, "mistral", options, 0, Device.Cpu, first));
        Assert.Equal(0, GenerateCommand.Run(folder, "Hello there", null, "mistral", options, 0, Device.Cpu, second));
        Assert.False(string.IsNullOrWhiteSpace(first.ToString()), "a random model still produces some text");
        Assert.Equal(first.ToString(), second.ToString());
    }

    [Fact]
    public void UnknownTemplateIsAnErrorListingTheKnownOnes()
    {
        MakeModel();
        var e = Assert.Throws<ArgumentException>(() =>
            GenerateCommand.Run(folder, "Hi", null, "vicuna", new GenerationOptions { MaxNewTokens = 2 }, 0, Device.Cpu, new StringWriter()));
        Assert.Contains("openchat_3.5", e.Message);
    }
}
