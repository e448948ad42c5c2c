using System.CommandLine;
using System.Text;
using System.Text.Json;
using FuseChat.Fusion.Tokenization;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat tokenize --tokenizer PATH [--special]</c>: reads JSON strings, one per line, from standard
/// input and prints one JSON array of token ids per line (a filter for scripts and parity checks).
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json, or a model folder holding it.", Required = true };
        var special = new Option<bool>("--special") { Description = "Add the tokenizer's special tokens (BOS/EOS) as its post-processor does." };
        var addTokens = new Option<string[]>("--add-special-token")
        {
            Description = "Register an extra special token before encoding (e.g. \"<|end_of_turn|>\" for OpenChat); repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("tokenize", "Tokenize JSON strings read line by line from standard input; print JSON id arrays.")
        {
            tokenizer, special, addTokens,
        };
        command.SetAction(parse =>
        {
            using var input = new StreamReader(Console.OpenStandardInput(), Encoding.UTF8);
            using var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = false };
            return Run(parse.GetValue(tokenizer)!, parse.GetValue(special), parse.GetValue(addTokens) ?? [], input, output, Console.Error);
        });
        return command;
    }

    /// <summary>Tokenizes <paramref name="input"/> line by line into <paramref name="output"/>; returns the exit code.</summary>
    internal static int Run(string path, bool addSpecial, string[] extraTokens, TextReader input, TextWriter output, TextWriter error)
    {
        HfTokenizer tokenizer;
        try
        {
            tokenizer = HfTokenizer.Load(path);
            foreach (var token in extraTokens) tokenizer.AddSpecialToken(token);
        }
        catch (Exception e) when (e is TokenizerLoadException or IOException or ArgumentException)
        {
            error.WriteLine($"error: {e.Message}");
            return 2;
        }
        var ids = new List<int>(1024);
        var builder = new StringBuilder();
        var lineNumber = 0;
        while (input.ReadLine() is { } line)
        {
            lineNumber++;
            string? text;
            try
            {
                text = JsonSerializer.Deserialize<string>(line);
            }
            catch (JsonException e)
            {
                error.WriteLine($"error: line {lineNumber} is not a JSON string ({e.Message})");
                return 1;
            }
            if (text is null)
            {
                error.WriteLine($"error: line {lineNumber} is null, expected a JSON string");
                return 1;
            }
            ids.Clear();
            tokenizer.Encode(text, addSpecial, ids);
            builder.Clear().Append('[');
            for (var i = 0; i < ids.Count; i++)
            {
                if (i > 0) builder.Append(',');
                builder.Append(ids[i]);
            }
            output.WriteLine(builder.Append(']'));
        }
        output.Flush();
        return 0;
    }
}
