using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FuseChat.Grains.Placement;
using FuseChat.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FuseChat.Client.Local;

/// <summary>
/// An embedded silo started inside the CLI's own process (for <c>fusechat demo</c> and <c>fusechat run --local</c>):
/// free loopback ports, so it never collides with a <c>fusechat silo</c> already running, and quiet logs, so the
/// progress display stays readable. Its grain state, artifacts and reminders live under the data folder, so a run
/// stopped with the process continues when one is started again over the same folder.
/// </summary>
internal sealed class InProcessSilo : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessSilo(WebApplication app) => _app = app;

    /// <summary>The silo's grains.</summary>
    public IGrainFactory Grains => _app.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Where the silo's model workers compute (FuseChat:Gpu:Device, checked when the silo started).</summary>
    public FuseChat.Torch.Device ModelDevice => _app.Services.GetRequiredService<WorkDevice>().Current;

    /// <summary>Starts a silo over <paramref name="dataPath"/>.</summary>
    /// <param name="dataPath">Grain state, artifacts and reminders (FuseChat:DataPath).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The started silo; dispose it to stop it gracefully.</returns>
    public static async Task<InProcessSilo> StartAsync(string dataPath, CancellationToken cancellationToken)
    {
        string[] args =
        [
            "--urls", $"http://127.0.0.1:{FreePort()}",
            "--FuseChat:DataPath", dataPath,
            "--FuseChat:SiloPort", FreePort().ToString(CultureInfo.InvariantCulture),
            "--FuseChat:GatewayPort", FreePort().ToString(CultureInfo.InvariantCulture),
            "--Logging:LogLevel:Default", "Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime", "Warning",
            // Orleans' warnings are for operators of a cluster (server GC, thread-pool stalls while training saturates the
            // cores); a run's own failures reach the terminal through its status and events.
            "--Logging:LogLevel:Orleans", "Error",
        ];
        var app = SiloHost.Create(args);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new InProcessSilo(app);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // Graceful: grains deactivate and training workers stop at their last checkpoint.
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
