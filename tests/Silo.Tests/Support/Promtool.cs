using System.Diagnostics;
using FuseChat.Testing.Support;

namespace FuseChat.Silo.Tests.Support;

internal static class Promtool
{
    /// <summary>Runs `promtool check metrics` over <paramref name="text"/>; returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> CheckMetricsAsync(string text) => RunAsync(text, null, "check", "metrics");

    /// <summary>Runs promtool with <paramref name="arguments"/> in <paramref name="workingDirectory"/>, nothing on its input.</summary>
    public static Task<(int ExitCode, string Output)> RunInAsync(string workingDirectory, params string[] arguments) => RunAsync(string.Empty, workingDirectory, arguments);

    private static async Task<(int ExitCode, string Output)> RunAsync(string input, string? workingDirectory, params string[] arguments)
    {
        var exe = ProgramLocator.Find("promtool")
                  ?? throw new InvalidOperationException("promtool is not installed: run scripts/ensure-deps.sh (Debian package prometheus provides /usr/bin/promtool).");
        var start = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await stdout + await stderr).Trim());
    }
}
