using System.Text.Json;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Tests.Tokenization;
using FuseChat.Fusion.Tokenization;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Representations;

/// <summary>
/// A tiny random Llama (32000-token Mistral vocabulary, hidden 16) saved as a Hugging Face folder with
/// the real llama2 tokenizer from the npm fixtures, plus chat data in JSONL. Built once per test class.
/// </summary>
public sealed class RepresentationFixture : IDisposable
{
    public RepresentationFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "fusechat-repr-" + Guid.NewGuid().ToString("N"));
        ModelFolder = CreateModel(Path.Combine(Root, "model"), maxPositions: 512, seed: 7);
        ShortModelFolder = CreateModel(Path.Combine(Root, "model-short"), maxPositions: 40, seed: 8);
        DataPath = WriteData(Path.Combine(Root, "data.jsonl"), Conversations);
        Tokenizer = HfTokenizer.Load(ModelFolder);
    }

    public string Root { get; }

    /// <summary>max_position_embeddings 512.</summary>
    public string ModelFolder { get; }

    /// <summary>max_position_embeddings 40: long conversations are truncated.</summary>
    public string ShortModelFolder { get; }

    /// <summary>The JSONL file of <see cref="Conversations"/>.</summary>
    public string DataPath { get; }

    public HfTokenizer Tokenizer { get; }

    /// <summary>Seven conversations (OpenAI messages), one with an empty reply, one with a long prompt.</summary>
    public static IReadOnlyList<(string Id, (string Role, string Content)[] Messages)> Conversations { get; } =
    [
        ("greet", [("user", "Hello, how are you?"), ("assistant", "Fine, thanks. And you?")]),
        ("pirate", [("system", "You are a helpful pirate."), ("user", "Tell me about the sea."), ("assistant", "The sea be wide and deep, matey!"),
            ("user", "And the ships?"), ("assistant", "Ships be many, and fast.")]),
        ("empty-reply", [("user", "Say nothing at all."), ("assistant", "")]),
        ("math", [("user", "What is 2+2?"), ("assistant", "2+2 is 4. Numbers like 3.14159 and 1,000,000 are fun too.")]),
        ("long-prompt", [("user", "Please read this long question about the history of knowledge fusion, the merging of models, "
            + "and the many ways in which chat models can learn from each other before you answer."), ("assistant", "Yes.")]),
        ("unicode", [("user", "naïve café 你好 😀"), ("assistant", "Bonjour! 你好!")]),
        ("code", [("user", "Write a loop."), ("assistant", "for (var i = 0; i < 10; i++) { Console.WriteLine(i); }")]),
    ];

    public static string CreateModel(string folder, int maxPositions, int seed)
    {
        var json = $$"""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000, "hidden_size": 16,
             "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
             "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": {{maxPositions}}, "tie_word_embeddings": false,
             "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "torch_dtype": "float32"}
            """;
        var config = ModelConfig.Parse(json);
        TorchRuntime.ManualSeed((ulong)seed);
        using (var model = new LlamaModel(DecoderConfig.From(config)))
        {
            // Normal(0, 0.02) weights give near-uniform logits; a larger scale spreads them like a trained model's.
            using var noGrad = NoGradScope.Enter();
            using var scope = DisposeScope.Open();
            foreach (var (name, tensor) in model.NamedParameters())
                if (name.EndsWith("embed_tokens.weight", StringComparison.Ordinal) || name.EndsWith("lm_head.weight", StringComparison.Ordinal))
                    tensor.CopyFrom(tensor * 50.0);
            PretrainedModel.Save(model, config, folder);
        }
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(TokenizerFixtures.ModelDir("llama2"), file), Path.Combine(folder, file));
        return folder;
    }

    public static string WriteData(string path, IEnumerable<(string Id, (string Role, string Content)[] Messages)> conversations)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllLines(path, conversations.Select(c => JsonSerializer.Serialize(new
        {
            id = c.Id,
            messages = c.Messages.Select(m => new { role = m.Role, content = m.Content }),
        })));
        return path;
    }

    public string NewFolder(string name) => Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
