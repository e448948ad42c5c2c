using System.Text.Json;
using FuseChat.Client.Commands;

namespace FuseChat.Client.Tests;

public sealed class InspectCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fusechat-inspect-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_complete_folder_is_ready_and_described()
    {
        var folder = TinyMistralFolder.Create(Path.Combine(_root, "mistral"), seed: 1);
        var output = new StringWriter();

        Assert.Equal(0, InspectCommand.Run(folder, asJson: true, output));

        using var report = JsonDocument.Parse(output.ToString());
        var root = report.RootElement;
        Assert.True(root.GetProperty("ready").GetBoolean());
        Assert.Equal(0, root.GetProperty("problems").GetArrayLength());
        Assert.Equal("MistralForCausalLM", root.GetProperty("declared_class").GetString());
        Assert.Equal(TinyMistralFolder.Parameters, root.GetProperty("parameters").GetInt64());
        Assert.Equal(32000, root.GetProperty("tokenizer_size").GetInt32());
        Assert.Equal(1, root.GetProperty("checkpoint_files").GetInt32());
        Assert.Equal(new FileInfo(Path.Combine(folder, "model.safetensors")).Length, root.GetProperty("checkpoint_bytes").GetInt64());
        Assert.Contains("theta 10000", root.GetProperty("rotation").GetString(), StringComparison.Ordinal);
        Assert.Contains("2 heads, 1 key/value heads, width 8", root.GetProperty("attention").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("dense SwiGLU, width ", root.GetProperty("mlp").GetString(), StringComparison.Ordinal);

        var table = new StringWriter();
        Assert.Equal(0, InspectCommand.Run(folder, asJson: false, table));
        Assert.Contains("ready: nothing in this folder would stop a run", table.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_weights_and_tokenizer_are_listed_as_problems()
    {
        var folder = TinyMistralFolder.Create(Path.Combine(_root, "broken"), seed: 2);
        File.Delete(Path.Combine(folder, "model.safetensors"));
        File.Delete(Path.Combine(folder, "tokenizer.json"));
        var output = new StringWriter();

        Assert.Equal(1, InspectCommand.Run(folder, asJson: false, output));

        var text = output.ToString();
        Assert.Contains("2 problem(s):", text, StringComparison.Ordinal);
        Assert.Contains("has neither 'model.safetensors' nor 'model.safetensors.index.json'", text, StringComparison.Ordinal);
        Assert.Contains("no usable tokenizer", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_a_config_cannot_be_inspected()
    {
        var output = new StringWriter();

        Assert.Equal(2, InspectCommand.Run(Path.Combine(_root, "nowhere"), asJson: false, output));
        Assert.Contains("inspect failed: model folder", output.ToString(), StringComparison.Ordinal);

        Directory.CreateDirectory(Path.Combine(_root, "empty"));
        var json = new StringWriter();
        Assert.Equal(2, InspectCommand.Run(Path.Combine(_root, "empty"), asJson: true, json));
        using var report = JsonDocument.Parse(json.ToString());
        Assert.False(report.RootElement.GetProperty("ready").GetBoolean());
        Assert.Contains("has no config.json", report.RootElement.GetProperty("problems")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_mixture_of_experts_is_described_by_its_experts_and_dense_layers()
    {
        // Qwen3-30B-A3B's shape with every other layer dense; a config alone, so the weights are a problem.
        var folder = Directory.CreateDirectory(Path.Combine(_root, "qwen3-moe")).FullName;
        File.WriteAllText(Path.Combine(folder, "config.json"), """
            {"architectures": ["Qwen3MoeForCausalLM"], "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 6144,
             "num_hidden_layers": 48, "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128, "num_experts": 128,
             "num_experts_per_tok": 8, "moe_intermediate_size": 768, "norm_topk_prob": true, "decoder_sparse_step": 2}
            """);
        var output = new StringWriter();

        Assert.Equal(1, InspectCommand.Run(folder, asJson: true, output));

        using var report = JsonDocument.Parse(output.ToString());
        Assert.Equal("Qwen3MoeForCausalLM", report.RootElement.GetProperty("declared_class").GetString());
        Assert.Contains("128 experts of width 768, 8 per token, in 24 of 48 layers (the others dense, width 6144)",
            report.RootElement.GetProperty("mlp").GetString(), StringComparison.Ordinal);
    }
}
