using System.Text;
using System.Text.Json.Nodes;
using FuseChat.Fusion.Tokenization;

namespace FuseChat.Fusion.Tests.Tokenization;

/// <summary>
/// Components the shipped fixtures do not use (Metaspace, GPT-2 ByteLevel regex, Digits, split
/// behaviours, added-token flags, suffix templates), exercised by rewriting a fixture's
/// tokenizer.json and comparing with Hugging Face on the rewritten file.
/// </summary>
public sealed class HfTokenizerVariantTests
{
    public static TheoryData<string> Variants => new(
        "llama2-metaspace-first", "llama2-metaspace-always-split", "llama2-digits", "llama3-digit-runs", "llama3-gpt2-prefix-space",
        "llama3-split-behaviours", "qwen3-added-token-flags");

    [Theory]
    [MemberData(nameof(Variants))]
    public void Tokenize_Variant_MatchesHuggingFace(string variant)
    {
        var path = Build(variant);
        var tokenizer = HfTokenizer.Load(path);
        var failures = new StringBuilder();
        var count = 0;
        foreach (var r in TokenizerFixtures.ReferenceForFile(path))
        {
            var ids = tokenizer.Encode(r.Text, addSpecialTokens: false);
            var idsSpecial = tokenizer.Encode(r.Text, addSpecialTokens: true);
            var decoded = tokenizer.Decode(r.IdsSpecial, skipSpecialTokens: false);
            var skipped = tokenizer.Decode(r.IdsSpecial, skipSpecialTokens: true);
            if (!ids.AsSpan().SequenceEqual(r.Ids) || !idsSpecial.AsSpan().SequenceEqual(r.IdsSpecial) || decoded != r.Decoded || skipped != r.DecodedSkip)
            {
                if (count++ < 5)
                {
                    failures.AppendLine($"text {Show(r.Text)}\n  ours [{string.Join(",", idsSpecial)}] {Show(decoded)} {Show(skipped)}\n  HF   [{string.Join(",", r.IdsSpecial)}] {Show(r.Decoded)} {Show(r.DecodedSkip)}");
                }
            }
        }

        Assert.True(count == 0, $"{variant}: {count} corpus lines differ from Hugging Face\n{failures}");
    }

    private static string Build(string variant)
    {
        var baseName = variant[..variant.IndexOf('-', StringComparison.Ordinal)];
        var root = JsonNode.Parse(File.ReadAllText(TokenizerFixtures.TokenizerJson(baseName)))!.AsObject();
        switch (variant)
        {
            case "llama2-metaspace-first":
                root["normalizer"] = null;
                root["pre_tokenizer"] = JsonNode.Parse("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}""");
                root["decoder"] = JsonNode.Parse("""{"type":"Sequence","decoders":[{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false},{"type":"ByteFallback"},{"type":"Fuse"}]}""");
                break;
            case "llama2-metaspace-always-split":
                root["normalizer"] = null;
                root["pre_tokenizer"] = JsonNode.Parse("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}""");
                root["decoder"] = JsonNode.Parse("""{"type":"Sequence","decoders":[{"type":"ByteFallback"},{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},{"type":"Fuse"}]}""");
                break;
            case "llama2-digits":
                root["pre_tokenizer"] = JsonNode.Parse("""{"type":"Digits","individual_digits":true}""");
                break;
            case "llama3-digit-runs":
                root["pre_tokenizer"] = JsonNode.Parse("""{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}]}""");
                break;
            case "llama3-gpt2-prefix-space":
                root["pre_tokenizer"] = JsonNode.Parse("""{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}""");
                root["post_processor"] = JsonNode.Parse("""
                    {"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<|begin_of_text|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"<|end_of_text|>","type_id":0}}],
                     "pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
                     "special_tokens":{"<|begin_of_text|>":{"id":"<|begin_of_text|>","ids":[128000],"tokens":["<|begin_of_text|>"]},"<|end_of_text|>":{"id":"<|end_of_text|>","ids":[128001],"tokens":["<|end_of_text|>"]}}}
                    """);
                break;
            case "llama3-split-behaviours":
                root["pre_tokenizer"] = JsonNode.Parse("""
                    {"type":"Sequence","pretokenizers":[
                      {"type":"Split","pattern":{"String":" "},"behavior":"MergedWithNext","invert":false},
                      {"type":"Split","pattern":{"Regex":"[0-9]"},"behavior":"Contiguous","invert":false},
                      {"type":"Split","pattern":{"Regex":"[,.]"},"behavior":"Removed","invert":false},
                      {"type":"Split","pattern":{"Regex":"[aeiou]"},"behavior":"MergedWithPrevious","invert":false},
                      {"type":"Split","pattern":{"Regex":"[A-Z]+"},"behavior":"Isolated","invert":true},
                      {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}
                    """);
                break;
            case "qwen3-added-token-flags":
                foreach (var token in root["added_tokens"]!.AsArray())
                {
                    var content = token!["content"]!.GetValue<string>();
                    switch (content)
                    {
                        case "<|im_start|>": token["lstrip"] = true; break;
                        case "<|im_end|>": token["rstrip"] = true; break;
                        case "<think>": token["normalized"] = true; break;
                        case "</think>": token["single_word"] = true; break;
                        case "<|endoftext|>": token["lstrip"] = true; token["rstrip"] = true; break;
                    }
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(variant));
        }

        var dir = Directory.CreateTempSubdirectory($"tok-{variant}-");
        var path = Path.Combine(dir.FullName, "tokenizer.json");
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    private static string Show(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
