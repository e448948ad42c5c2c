using FuseChat.Fusion.Templates;
using static FuseChat.Fusion.Tests.Templates.TemplateFixtures;

namespace FuseChat.Fusion.Tests.Templates;

/// <summary>Our rendered text (segments concatenated) against the models' own Jinja chat templates.</summary>
public sealed class ChatTemplateJinjaTests
{
    [Theory]
    [InlineData("gemma", "gemma3", "<bos>", "<eos>")]
    [InlineData("chatml", null, null, null)]
    [InlineData("qwen3", "qwen3", null, "<|im_end|>")]
    [InlineData("internlm2", null, "<s>", "</s>")]
    [InlineData("llama-2", null, "<s>", "</s>")]
    [InlineData("phi-3", null, null, "<|endoftext|>")]
    [InlineData("phi-4", null, null, null)]
    [InlineData("phi-4-mini", null, null, "<|endoftext|>")]
    [InlineData("mistral-nemo", "mistral_nemo", "<s>", "</s>")]
    public void Templates_Render_EqualsJinja(string name, string? package, string? bos, string? eos)
    {
        var jinja = package is null ? TemplatePath(name + ".jinja") : TokenizerConfig(package);
        AssertEqualsJinja(name, jinja, Conversations, bos, eos, addGenerationPrompt: false);
        AssertEqualsJinja(name, jinja, Conversations, bos, eos, addGenerationPrompt: true);
    }

    [Fact]
    public void Templates_MistralRender_EqualsJinjaWithoutSystem()
    {
        // Mixtral-Instruct's template raises on a system message; ours puts it before the first user text.
        var plain = Conversations.Where(c => c.System is null).ToList();
        AssertEqualsJinja("mistral", TemplatePath("mistral.jinja"), plain, "<s>", "</s>", addGenerationPrompt: false);
        AssertEqualsJinja("mistral", TemplatePath("mistral.jinja"), plain, "<s>", "</s>", addGenerationPrompt: true);
        Assert.All(RenderJinja(TemplatePath("mistral.jinja"), [TwoTurnsWithSystem], false, "<s>", "</s>"), Assert.Null);
        Assert.StartsWith(
            "<s>[INST] You are a helpful pirate.\n\nHello, how are you? [/INST]Arr",
            ChatTemplates.Get("mistral").RenderText(TwoTurnsWithSystem, false),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Templates_OpenChatRender_EqualsJinjaWithoutSystem()
    {
        // OpenChat's Jinja writes a system message as "GPT4 Correct System: ..."; FastChat (FuseChat's
        // training code) writes the bare text then <|end_of_turn|>, which we follow.
        var plain = Conversations.Where(c => c.System is null).ToList();
        var jinja = TemplatePath("openchat_3.5.jinja");
        AssertEqualsJinja("openchat_3.5", jinja, plain, "<s>", "</s>", addGenerationPrompt: false);
        AssertEqualsJinja("openchat_3.5", jinja, plain, "<s>", "</s>", addGenerationPrompt: true);
        Assert.StartsWith(
            "<s>You are a helpful pirate.<|end_of_turn|>GPT4 Correct User: Hello, how are you?<|end_of_turn|>",
            ChatTemplates.Get("openchat_3.5").RenderText(TwoTurnsWithSystem, false),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Templates_Llama3Render_EqualsJinja()
    {
        // The llama3 package's template appends the assistant header unconditionally (it lacks the
        // add_generation_prompt test of Meta's later revision): compare the training render plus that header.
        const string header = "<|start_header_id|>assistant<|end_header_id|>\n\n";
        var template = ChatTemplates.Get("llama-3");
        var jinja = RenderJinja(TokenizerConfig("llama3"), Conversations, true, "<|begin_of_text|>", "<|end_of_text|>");
        for (var i = 0; i < Conversations.Count; i++)
        {
            Assert.Equal(jinja[i], template.RenderText(Conversations[i], addGenerationPrompt: true));
            Assert.Equal(jinja[i], template.RenderText(Conversations[i], addGenerationPrompt: false) + header);
        }
    }

    [Fact]
    public void Templates_QwenRender_EqualsQwen3JinjaExceptEmptyThinkBlock()
    {
        // Qwen3's template equals ChatML except that an assistant reply after the last user message
        // gets an empty "<think>\n\n</think>\n\n" block; prompts ending with a user message are equal.
        var template = ChatTemplates.Get("qwen");
        var config = TokenizerConfig("qwen3");
        var withPrompt = RenderJinja(config, Conversations, true, null, "<|im_end|>");
        var training = RenderJinja(config, Conversations, false, null, "<|im_end|>");
        for (var i = 0; i < Conversations.Count; i++)
        {
            var conversation = Conversations[i];
            var ours = template.RenderText(conversation, addGenerationPrompt: false);
            if (conversation.Messages[^1].Role == ChatRole.User)
            {
                Assert.Equal(withPrompt[i], template.RenderText(conversation, addGenerationPrompt: true));
                Assert.Equal(training[i], ours);
            }
            else
            {
                const string opener = "<|im_start|>assistant\n";
                var at = ours.LastIndexOf(opener, StringComparison.Ordinal) + opener.Length;
                Assert.Equal(training[i], ours.Insert(at, "<think>\n\n</think>\n\n"));
            }
        }
    }

    private static void AssertEqualsJinja(string name, string jinjaPath, IReadOnlyList<Conversation> conversations, string? bos, string? eos, bool addGenerationPrompt)
    {
        var template = ChatTemplates.Get(name);
        var expected = RenderJinja(jinjaPath, conversations, addGenerationPrompt, bos, eos);
        for (var i = 0; i < conversations.Count; i++)
        {
            Assert.NotNull(expected[i]);
            Assert.Equal(expected[i], template.RenderText(conversations[i], addGenerationPrompt));
        }
    }
}
