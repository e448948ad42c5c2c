using System.Net;
using System.Net.Sockets;

namespace FuseChat.Silo.Tests.Support;

internal static class Ports
{
    /// <summary>Loopback ports nobody listens on; all listeners are held until every port is chosen, so none repeats.</summary>
    public static int[] Free(int count)
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
}
