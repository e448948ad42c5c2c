using System.CommandLine;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tokenization;
using FuseChat.Torch;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat generate --model DIR --prompt TEXT</c>: one chat turn with a Hugging Face model folder,
/// the reply streamed as it is generated.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face model folder (config.json, safetensors, tokenizer.json).", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "The user's message.", Required = true };
        var system = new Option<string?>("--system") { Description = "An optional system message." };
        var template = new Option<string?>("--template") { Description = $"Chat template ({string.Join(", ", ChatTemplates.Names)}); default: detected from the tokenizer." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 256 };
        var temperature = new Option<double>("--temperature") { Description = "0 = greedy; otherwise sampling temperature.", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass.", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var command = new Command("generate", "Chat with a model folder: apply its chat template, generate a reply, stream it.")
        {
            model, prompt, system, template, maxTokens, temperature, topP, seed, device,
        };
        command.SetAction(parse =>
        {
            try
            {
                return Run(parse.GetValue(model)!, parse.GetValue(prompt)!, parse.GetValue(system), parse.GetValue(template),
                    new GenerationOptions { MaxNewTokens = parse.GetValue(maxTokens), Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP) },
                    parse.GetValue(seed), Device.Parse(parse.GetValue(device)!), Console.Out);
            }
            catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException or TokenizerLoadException
                                           or FuseChat.Fusion.Checkpoints.CheckpointFormatException or TorchException or InvalidOperationException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]generate failed:[/] {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>Generates one reply into <paramref name="output"/>; returns the exit code.</summary>
    internal static int Run(string folder, string prompt, string? system, string? templateName, GenerationOptions options, ulong seed, Device device,
        TextWriter output)
    {
        var tokenizer = HfTokenizer.Load(folder);
        var template = templateName is not null ? ChatTemplates.Get(templateName)
            : ChatTemplates.Detect(tokenizer) ?? throw new ArgumentException(
                $"cannot tell the chat template from the tokenizer in {folder}; pass --template ({string.Join(", ", ChatTemplates.Names)})");
        var (loaded, config) = PretrainedModel.Load(folder, DType.Float32, device);
        using var llm = loaded;
        if (tokenizer.Count > config.VocabSize)
            throw new InvalidOperationException($"the tokenizer has {tokenizer.Count} tokens but the model only {config.VocabSize} rows");
        var messages = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(system)) messages.Add(new ChatMessage(ChatRole.System, system));
        messages.Add(new ChatMessage(ChatRole.User, prompt));
        var encoded = ChatEncoder.Encode(new Conversation(messages), template, tokenizer, addGenerationPrompt: true);
        var stops = ChatStopTokens.For(tokenizer, config.EosTokenIds);
        TorchRuntime.ManualSeed(seed);

        var generated = new List<int>();
        var printed = 0;
        TextGenerator.Generate(llm, encoded.Ids, options with { StopTokenIds = stops }, token =>
        {
            // Decode the whole reply each time: a character can span several byte-level tokens.
            generated.Add(token);
            var text = tokenizer.Decode(generated.ToArray(), skipSpecialTokens: true);
            if (text.Length > printed && !text.EndsWith('\uFFFD'))
            {
                output.Write(text[printed..]);
                output.Flush();
                printed = text.Length;
            }
        });
        output.WriteLine();
        return 0;
    }
}
