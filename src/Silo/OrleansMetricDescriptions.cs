using System.Diagnostics.Metrics;

namespace FuseChat.Silo;

/// <summary>
/// Help texts for the exported Orleans and .NET runtime instruments, which publish none (Prometheus wants
/// HELP on every metric), and new names for the runtime gauges whose names end in ".count" (in Prometheus a
/// "_count" suffix belongs to histograms and summaries).
/// </summary>
public static class OrleansMetricDescriptions
{
    private static readonly Dictionary<string, string> RuntimeRenames = new(StringComparer.Ordinal)
    {
        ["dotnet.timer.count"] = "dotnet.timers",
        ["dotnet.process.cpu.count"] = "dotnet.process.cpus",
        ["dotnet.assembly.count"] = "dotnet.assemblies",
    };

    /// <summary>A help text made from the instrument's name and kind, e.g. "Orleans catalog activations (gauge).".</summary>
    /// <param name="instrument">An instrument without a description.</param>
    public static string For(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var words = instrument.Name.Replace('-', ' ').Replace('.', ' ').Replace('_', ' ');
        var kind = instrument.GetType().Name switch
        {
            var n when n.StartsWith("Histogram", StringComparison.Ordinal) => "histogram",
            var n when n.Contains("Counter", StringComparison.Ordinal) => "counter",
            _ => "gauge",
        };
        return $"{char.ToUpperInvariant(words[0])}{words[1..]} ({kind}, from the {instrument.Meter.Name} meter).";
    }

    /// <summary>The exported name of a runtime instrument that needs a new one, else null.</summary>
    /// <param name="instrumentName">The instrument's name.</param>
    public static string? RenameOf(string instrumentName) => RuntimeRenames.GetValueOrDefault(instrumentName);
}
