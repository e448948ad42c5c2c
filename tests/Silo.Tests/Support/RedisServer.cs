using System.Net.Sockets;
using System.Text;
using FuseChat.Testing.Support;

namespace FuseChat.Silo.Tests.Support;

/// <summary>A throwaway redis-server on a free loopback port, without persistence; killed at the end.</summary>
public sealed class RedisServer : IAsyncLifetime
{
    private ChildProcess? _process;

    public int Port { get; private set; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        var exe = ProgramLocator.Find("redis-server")
                  ?? throw new InvalidOperationException("redis-server is not installed: run scripts/ensure-deps.sh (Debian package redis-server).");
        Port = FreePorts.One();
        _process = ChildProcess.Start("redis-server", exe, ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        await _process.WaitUntilAsync(PingAsync, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
    }

    public Task DisposeAsync()
    {
        _process?.Dispose();
        return Task.CompletedTask;
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
