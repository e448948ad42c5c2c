using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using Spectre.Console;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat inspect MODEL [--json]</c>: what FuseChat makes of a model folder before a run depends on it: the family
/// and shape, rotation, attention and MLP, the checkpoint against the tensors the family needs, and the tokenizer and chat
/// format. Reads config.json, the safetensors headers and the tokenizer; no weights. Exit code 0 when the folder is
/// ready, 1 when it has problems (listed), 2 when it cannot be read at all.
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("model") { Description = "A Hugging Face model folder (config.json, safetensors, tokenizer.json)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the table." };
        var command = new Command("inspect", "Show what FuseChat reads from a model folder (family, shape, rotation, attention, MLP, checkpoint, tokenizer, template) and what would stop a run.")
        {
            folder, json,
        };
        command.SetAction(parse => Run(parse.GetValue(folder)!, parse.GetValue(json), Console.Out));
        return command;
    }

    /// <summary>Inspects <paramref name="folder"/> and writes the result to <paramref name="output"/>; returns the exit code.</summary>
    public static int Run(string folder, bool asJson, TextWriter output)
    {
        ModelInspection inspection;
        try
        {
            inspection = ModelInspection.Of(folder);
        }
        catch (Exception e) when (e is CheckpointFormatException or DirectoryNotFoundException or IOException or JsonException)
        {
            if (asJson) output.WriteLine(JsonSerializer.Serialize(new { ready = false, problems = new[] { e.Message } }));
            else output.WriteLine($"inspect failed: {e.Message}");
            return 2;
        }

        var config = inspection.Config;
        if (asJson)
        {
            output.WriteLine(JsonSerializer.Serialize(new
            {
                folder = inspection.Folder,
                declared_class = inspection.DeclaredClass,
                read_as = config.ArchitectureName,
                parameters = inspection.Parameters,
                layers = config.NumHiddenLayers,
                hidden = config.HiddenSize,
                intermediate = config.IntermediateSize,
                vocabulary = config.VocabSize,
                tied_embeddings = config.TieWordEmbeddings,
                dtype = config.TorchDtype,
                rotation = inspection.Rotation,
                attention = inspection.Attention,
                mlp = inspection.Mlp,
                checkpoint_files = inspection.CheckpointFiles,
                checkpoint_bytes = inspection.CheckpointBytes,
                tensors = inspection.Tensors,
                language_model_prefix = inspection.LanguageModelPrefix,
                tokenizer_size = inspection.TokenizerSize,
                template = inspection.Template,
                ready = inspection.Ready,
                problems = inspection.Problems,
            }));
            return inspection.Ready ? 0 : 1;
        }

        var readAs = inspection.DeclaredClass == config.ArchitectureName
            ? config.ArchitectureName
            : $"{inspection.DeclaredClass}, read as its language model ({config.ArchitectureName})";
        var table = new Table().AddColumn("model").AddColumn(Markup.Escape(inspection.Folder));
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("family", readAs);
        Row("parameters", string.Create(CultureInfo.InvariantCulture, $"{PlanCommand.Count(inspection.Parameters)} ({inspection.Parameters:N0})"));
        Row("shape", string.Create(CultureInfo.InvariantCulture,
            $"{config.NumHiddenLayers} layers, hidden {config.HiddenSize}, MLP {config.IntermediateSize}, vocabulary {config.VocabSize}{(config.TieWordEmbeddings ? ", tied embeddings" : "")}"));
        Row("rotation", inspection.Rotation);
        Row("attention", inspection.Attention);
        Row("mlp", inspection.Mlp);
        Row("weights", inspection.CheckpointFiles == 0 ? "none"
            : string.Create(CultureInfo.InvariantCulture, $"{inspection.Tensors} tensors in {inspection.CheckpointFiles} file(s), {PlanCommand.Bytes(inspection.CheckpointBytes)}{(config.TorchDtype is { } dtype ? ", " + dtype : "")}")
              + (inspection.LanguageModelPrefix is { } prefix ? $"; language model under {prefix}, the rest left out" : ""));
        Row("tokenizer", inspection.TokenizerSize is { } size ? size.ToString(CultureInfo.InvariantCulture) + " tokens" : "none");
        Row("chat template", inspection.Template ?? "not recognised (give --template / pivot.template)");
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        console.Write(table);
        if (inspection.Ready)
        {
            output.WriteLine("ready: nothing in this folder would stop a run");
            return 0;
        }

        output.WriteLine($"{inspection.Problems.Count} problem(s):");
        foreach (var problem in inspection.Problems) output.WriteLine($"  - {problem}");
        return 1;
    }
}
