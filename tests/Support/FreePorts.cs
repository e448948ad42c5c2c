using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FuseChat.Testing.Support;

/// <summary>Loopback TCP ports nobody listens on, for servers a test starts (Redis, Azurite, silos).</summary>
/// <remarks>
/// Ports come from below the kernel's ephemeral range. A port the kernel hands out for <c>bind(0)</c> lies inside
/// that range, so between choosing it and the server binding it, any outgoing connection of a parallel test may take
/// it as its source port (a silo of the failover scenario once exited at start-up that way). A port is also never
/// handed out twice in one process, which consecutive <c>bind(0)</c> calls do not promise.
/// </remarks>
public static class FreePorts
{
    private const int Lowest = 10000;
    private static readonly HashSet<int> Given = [];
    private static readonly Lock Gate = new();

    /// <summary><paramref name="count"/> distinct free loopback ports, none given before in this process.</summary>
    public static int[] Take(int count)
    {
        var (low, high) = Range();
        lock (Gate)
        {
            var ports = new List<int>(count);
            for (var attempt = 0; ports.Count < count; attempt++)
            {
                if (attempt > 10_000)
                {
                    throw new InvalidOperationException($"no free loopback port in {low}..{high} after {attempt} attempts");
                }

                var port = Random.Shared.Next(low, high);
                if (!Given.Contains(port) && IsFree(port))
                {
                    Given.Add(port);
                    ports.Add(port);
                }
            }

            return [.. ports];
        }
    }

    /// <summary>One free loopback port.</summary>
    public static int One() => Take(1)[0];

    /// <summary>The ports to draw from: [10000, start of the ephemeral range), 10000..32768 where it is unknown.</summary>
    private static (int Low, int High) Range()
    {
        var high = 32768;
        try
        {
            var fields = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0 && int.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var start)
                && start > Lowest + 1000)
            {
                high = start;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return (Lowest, high);
    }

    private static bool IsFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }
}
