using System.Net;
using System.Net.Sockets;

namespace FuseChat.Testing.Support;

/// <summary>Loopback TCP ports nobody listens on, so parallel runs never collide.</summary>
public static class FreePorts
{
    /// <summary>
    /// <paramref name="count"/> distinct free loopback ports; all listeners are held until every port is chosen, so
    /// none repeats.
    /// </summary>
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    /// <summary>One free loopback port.</summary>
    public static int One() => Take(1)[0];
}
