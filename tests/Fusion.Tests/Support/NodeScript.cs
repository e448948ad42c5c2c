using System.Diagnostics;
using System.Text;

namespace FuseChat.Fusion.Tests.Support;

/// <summary>Runs a reference script of tests/fixtures under Node: lines in on stdin, lines out on stdout.</summary>
internal static class NodeScript
{
    /// <summary>
    /// Runs tests/fixtures/<paramref name="script"/> with <paramref name="arguments"/>, feeding <paramref name="input"/>
    /// one line each; fails the test with stderr when the script fails. Returns the non-empty output lines.
    /// </summary>
    public static string[] Run(string script, IEnumerable<string> arguments, IEnumerable<string> input)
    {
        var start = new ProcessStartInfo("node", [Path.Combine(Tokenization.TokenizerFixtures.FixturesDir, script), .. arguments])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        // Both pipes are drained while input is written, so a chatty script cannot block on a full buffer.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        foreach (var line in input) process.StandardInput.WriteLine(line);
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode != 0) Assert.Fail($"{script} failed ({process.ExitCode}): {stderr.Result}");
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
