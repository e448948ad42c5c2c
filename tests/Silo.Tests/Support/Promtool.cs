using System.Diagnostics;
using FuseChat.Testing.Support;

namespace FuseChat.Silo.Tests.Support;

internal static class Promtool
{
    /// <summary>Runs `promtool check metrics` over <paramref name="text"/>; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> CheckMetricsAsync(string text)
    {
        var exe = ProgramLocator.Find("promtool")
                  ?? throw new InvalidOperationException("promtool is not installed: run scripts/ensure-deps.sh (Debian package prometheus provides /usr/bin/promtool).");
        var start = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("check");
        start.ArgumentList.Add("metrics");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await stdout + await stderr).Trim());
    }
}
