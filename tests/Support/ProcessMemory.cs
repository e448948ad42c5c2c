using System.Globalization;

namespace FuseChat.Testing.Support;

/// <summary>This process's memory as Linux reports it in /proc/self/status: for memory tests and benches.</summary>
public static class ProcessMemory
{
    /// <summary>A figure of /proc/self/status (VmRSS: resident now, VmHWM: resident at most) in bytes.</summary>
    public static long Bytes(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return 1024 * long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        throw new InvalidOperationException($"no {field} in /proc/self/status");
    }

    /// <summary>
    /// The resident size after full garbage collections and pending finalizers, so that only what is really held
    /// counts (also lets garbage of earlier work be finalized before a measurement starts).
    /// </summary>
    public static long SettledResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Bytes("VmRSS");
    }
}
