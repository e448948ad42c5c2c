using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tests.Tokenization;
using FuseChat.Fusion.Tokenization;
using static FuseChat.Fusion.Tests.Templates.TemplateFixtures;

namespace FuseChat.Fusion.Tests.Templates;

/// <summary>Token ids and trained masks of rendered conversations, each template with its model's tokenizer.</summary>
public sealed class ChatEncoderTests
{
    // Template, tokenizer package, special tokens the model adds to that vocabulary, end-of-turn marker.
    public static TheoryData<string, string, string[], string> Cases => new()
    {
        { "openchat_3.5", "llama2", ["<|end_of_turn|>"], "<|end_of_turn|>" },
        { "mistral", "llama2", [], "</s>" },
        { "llama-2", "llama2", [], " </s>" },
        { "llama-3", "llama3", [], "<|eot_id|>" },
        { "chatml", "qwen3", [], "<|im_end|>" },
        { "qwen3", "qwen3", [], "<|im_end|>" },
        { "internlm2", "llama2", ["<|im_start|>", "<|im_end|>"], "<|im_end|>" },
        { "gemma", "gemma3", [], "<end_of_turn>" },
        { "phi-3", "llama2", ["<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>"], "<|end|>" },
        { "phi-4", "qwen3", ["<|im_sep|>"], "<|im_end|>" },
        { "phi-4-mini", "llama2", ["<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>"], "<|end|>" },
        // Tekken's [INST] and [/INST] are control tokens, one id each.
        { "mistral-nemo", "mistral_nemo", [], "</s>" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Templates_TrainedTokens_AreExactlyRepliesAndEndOfTurn(string name, string package, string[] added, string endOfTurn)
    {
        var tokenizer = Load(package, added);
        var encoded = ChatEncoder.Encode(TwoTurnsWithSystem, ChatTemplates.Get(name), tokenizer);
        Assert.Equal(encoded.Ids.Length, encoded.Trained.Length);
        var runs = TrainedRuns(encoded).Select(r => tokenizer.Decode(r, skipSpecialTokens: false)).ToList();
        var replies = TwoTurnsWithSystem.Messages.Where(m => m.Role == ChatRole.Assistant).Select(m => m.Content + endOfTurn).ToList();

        // SentencePiece decoding drops the first "▁" of each decoded run, so compare without leading spaces.
        Assert.Equal(replies, runs.Select(r => r.TrimStart()));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Templates_BosAndUserText_AreNeverTrained(string name, string package, string[] added, string endOfTurn)
    {
        _ = endOfTurn;
        var tokenizer = Load(package, added);
        var template = ChatTemplates.Get(name);
        var encoded = ChatEncoder.Encode(TwoTurnsWithSystem, template, tokenizer);
        // Templates that write no BOS (ChatML, Phi-3: their Jinja has no bos_token) start without one.
        if (template.BosToken is not null && tokenizer.BosId is { } bos)
        {
            Assert.Equal(bos, encoded.Ids[0]);
            Assert.Contains(bos, encoded.Ids);
            for (var t = 0; t < encoded.Ids.Length; t++)
            {
                Assert.False(encoded.Ids[t] == bos && encoded.Trained[t], $"BOS trained at {t}");
            }
        }

        var untrained = tokenizer.Decode(encoded.Ids.Where((_, t) => !encoded.Trained[t]).ToArray(), skipSpecialTokens: false);
        // Every prompt text the template renders stays untrained (mistral-nemo renders no system text in a conversation
        // that ends with a reply).
        var rendered = template.RenderText(TwoTurnsWithSystem, false);
        foreach (var message in TwoTurnsWithSystem.Messages.Where(m => m.Role != ChatRole.Assistant))
        {
            if (message.Role == ChatRole.User || rendered.Contains(message.Content, StringComparison.Ordinal))
                Assert.Contains(message.Content, untrained, StringComparison.Ordinal);
        }

        var trained = string.Concat(TrainedRuns(encoded).Select(r => tokenizer.Decode(r, skipSpecialTokens: false)));
        Assert.DoesNotContain("Hello, how are you", trained, StringComparison.Ordinal);
        Assert.DoesNotContain("sea.", trained, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Templates_Ids_EqualOneEncodeOfTheWholeText(string name, string package, string[] added, string endOfTurn)
    {
        _ = endOfTurn;
        var tokenizer = Load(package, added);
        var template = ChatTemplates.Get(name);
        foreach (var conversation in Conversations)
        {
            foreach (var prompt in new[] { false, true })
            {
                // Native tokenizers have the template's BOS text as their BOS token, so the text is the same.
                var text = template.RenderText(conversation, prompt);
                var encoded = ChatEncoder.Encode(conversation, template, tokenizer, prompt);
                Assert.Equal(tokenizer.Encode(text, addSpecialTokens: false), encoded.Ids);
            }
        }
    }

    [Fact]
    public void Templates_OpenChatPrompt_HasDocumentedIds()
    {
        var tokenizer = Load("llama2", ["<|end_of_turn|>"]);
        Assert.Equal(32000, tokenizer.TokenToId("<|end_of_turn|>"));
        var conversation = new Conversation([User("Hello")]);
        var template = ChatTemplates.Get("openchat_3.5");
        Assert.Equal("<s>GPT4 Correct User: Hello<|end_of_turn|>GPT4 Correct Assistant:", template.RenderText(conversation, true));
        var encoded = ChatEncoder.Encode(conversation, template, tokenizer, addGenerationPrompt: true);
        Assert.Equal([1, 420, 6316, 28781, 3198, 3123, 1247, 28747, 22557, 32000, 420, 6316, 28781, 3198, 3123, 21631, 28747], encoded.Ids);
        Assert.All(encoded.Trained, Assert.False);
    }

    [Fact]
    public void Templates_SegmentsEncodedSeparately_WouldDifferForSentencePiece()
    {
        // Why ChatEncoder encodes the whole text once: " Arr" encoded alone gets a second "▁".
        var tokenizer = Load("llama2", ["<|end_of_turn|>"]);
        var segments = ChatTemplates.OpenChat35.Render(TwoTurnsWithSystem, false);
        var separate = segments.SelectMany(s => tokenizer.Encode(s.Text, addSpecialTokens: false)).ToArray();
        var encoded = ChatEncoder.Encode(segments, tokenizer);
        Assert.NotEqual(separate, encoded.Ids);
        Assert.Equal(tokenizer.Encode(string.Concat(segments.Select(s => s.Text)), addSpecialTokens: false), encoded.Ids);
    }

    [Fact]
    public void Templates_ForeignTokenizer_UsesItsOwnBosOrNone()
    {
        // Stage 1 encodes the pivot's template text with every model's tokenizer.
        var template = ChatTemplates.OpenChat35;
        var qwen = ChatEncoder.Encode(TwoTurnsWithSystem, template, TokenizerFixtures.Shared("qwen3"));
        Assert.NotEqual(TokenizerFixtures.Shared("qwen3").Encode("<s>", false)[0], qwen.Ids[0]);
        Assert.Contains(qwen.Trained, t => t);

        var llama3 = TokenizerFixtures.Shared("llama3");
        var encoded = ChatEncoder.Encode(TwoTurnsWithSystem, template, llama3);
        Assert.Equal(llama3.BosId, encoded.Ids[0]);
        Assert.False(encoded.Trained[0]);
        var runs = TrainedRuns(encoded).Select(r => llama3.Decode(r, skipSpecialTokens: false)).ToList();
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r => Assert.Contains(" be ", r, StringComparison.Ordinal));
    }

    [Fact]
    public void Templates_UnknownName_ListsKnownNames()
    {
        var error = Assert.Throws<ArgumentException>(() => ChatTemplates.Get("vicuna"));
        Assert.Contains("vicuna", error.Message, StringComparison.Ordinal);
        foreach (var name in new[] { "openchat_3.5", "mistral", "llama-2", "llama-3", "chatml", "qwen", "qwen3", "gemma", "internlm2", "phi-3", "phi-4", "phi-4-mini" })
        {
            Assert.Contains(name, ChatTemplates.Names);
            Assert.Contains(name, error.Message, StringComparison.Ordinal);
            Assert.Same(ChatTemplates.Get(name), ChatTemplates.Get(name.ToUpperInvariant()));
        }

        Assert.Same(ChatTemplates.Get("chatml"), ChatTemplates.Get("qwen"));
    }

    [Fact]
    public void Templates_Detect_FromSpecialTokens()
    {
        Assert.Equal("llama-3", ChatTemplates.Detect(TokenizerFixtures.Shared("llama3"))?.Name);
        Assert.Equal("qwen3", ChatTemplates.Detect(TokenizerFixtures.Shared("qwen3"))?.Name); // ChatML with <think> markers
        Assert.Equal("gemma", ChatTemplates.Detect(TokenizerFixtures.Shared("gemma3"))?.Name);
        Assert.Equal("mistral-nemo", ChatTemplates.Detect(TokenizerFixtures.Shared("mistral_nemo"))?.Name); // by its Jinja's tight markers
        Assert.Null(ChatTemplates.Detect(TokenizerFixtures.Shared("llama2")));
        Assert.Equal("openchat_3.5", ChatTemplates.Detect(Load("llama2", ["<|end_of_turn|>"]))?.Name);
        Assert.Equal("internlm2", ChatTemplates.Detect(Load("llama2", ["<|im_start|>", "<|im_end|>"]))?.Name);
    }

    [Fact]
    public void Templates_Detect_Phi3FromItsMarkersAndTemplate()
    {
        // The Llama-2 vocabulary with Phi-3's added tokens and its chat_template, as a Phi-3 folder has them.
        using var folder = new FuseChat.Fusion.Tests.Checkpoints.TempFolder();
        foreach (var file in Directory.GetFiles(TokenizerFixtures.ModelDir("llama2")))
            File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        var configPath = Path.Combine(folder.Path, "tokenizer_config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["chat_template"] = File.ReadAllText(TemplatePath("phi-3.jinja"));
        File.WriteAllText(configPath, config.ToJsonString());
        var phi = HfTokenizer.Load(folder.Path);
        Assert.Null(ChatTemplates.Detect(phi)); // the template alone is not enough: the markers must be tokens
        foreach (var token in new[] { "<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>" }) phi.AddSpecialToken(token);
        Assert.Equal("phi-3", ChatTemplates.Detect(phi)?.Name);
        Assert.Equal("phi-4", ChatTemplates.Detect(Load("qwen3", ["<|im_sep|>"]))?.Name);

        // Phi-4-mini: the same markers, no newline after "<|end|>" in its template.
        config["chat_template"] = File.ReadAllText(TemplatePath("phi-4-mini.jinja"));
        File.WriteAllText(configPath, config.ToJsonString());
        var mini = HfTokenizer.Load(folder.Path);
        foreach (var token in new[] { "<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>" }) mini.AddSpecialToken(token);
        Assert.Equal("phi-4-mini", ChatTemplates.Detect(mini)?.Name);
    }

    [Fact]
    public void Templates_Conversation_RejectsBadRoleOrder()
    {
        Assert.Throws<ArgumentException>(() => new Conversation([]));
        Assert.Throws<ArgumentException>(() => new Conversation([Assistant("a")]));
        Assert.Throws<ArgumentException>(() => new Conversation([User("a"), User("b")]));
        Assert.Throws<ArgumentException>(() => new Conversation([User("a"), SystemMessage("s")]));
        Assert.Equal("s", new Conversation([SystemMessage("s"), User("a")]).System);
    }

    [Fact]
    public void Templates_EmptyReply_TrainsOnlyEndOfTurn()
    {
        var tokenizer = TokenizerFixtures.Shared("llama3");
        var encoded = ChatEncoder.Encode(new Conversation([User("Hi"), Assistant("")]), ChatTemplates.Get("llama-3"), tokenizer);
        var trained = encoded.Ids.Where((_, t) => encoded.Trained[t]).ToArray();
        Assert.Equal([tokenizer.TokenToId("<|eot_id|>")!.Value], trained);
    }

    private static HfTokenizer Load(string package, string[] added)
    {
        if (added.Length == 0)
        {
            return TokenizerFixtures.Shared(package);
        }

        var tokenizer = TokenizerFixtures.LoadFresh(package);
        foreach (var token in added)
        {
            tokenizer.AddSpecialToken(token);
        }

        return tokenizer;
    }

    private static List<int[]> TrainedRuns(EncodedConversation encoded)
    {
        var runs = new List<int[]>();
        var current = new List<int>();
        for (var t = 0; t <= encoded.Ids.Length; t++)
        {
            if (t < encoded.Ids.Length && encoded.Trained[t])
            {
                current.Add(encoded.Ids[t]);
            }
            else if (current.Count > 0)
            {
                runs.Add([.. current]);
                current.Clear();
            }
        }

        return runs;
    }
}
