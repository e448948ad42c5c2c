using FuseChat.Testing.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuseChat.Silo.Tests.Support;

/// <summary>A silo host started in-process on free loopback ports (HTTP, silo, gateway).</summary>
public sealed class RunningSilo : IAsyncDisposable
{
    private RunningSilo(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
        // No automatic redirects: tests see exactly what the silo answers.
        Http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public string DataPath { get; private set; } = string.Empty;

    /// <summary>Starts a silo with <paramref name="settings"/> (keys like "FuseChat:Mode"); <paramref name="map"/> adds endpoints.</summary>
    public static async Task<RunningSilo> StartAsync(IDictionary<string, string?> settings, Action<WebApplication>? map = null)
    {
        var ports = FreePorts.Take(2);
        var data = Directory.CreateTempSubdirectory("fusechat-silo-").FullName;
        var args = new List<string>
        {
            "--urls", "http://127.0.0.1:0",
            "--FuseChat:SiloPort", ports[0].ToString(),
            "--FuseChat:GatewayPort", ports[1].ToString(),
            "--FuseChat:DataPath", data,
        };
        foreach (var (key, value) in settings)
        {
            args.Add("--" + key);
            args.Add(value ?? string.Empty);
        }

        var builder = SiloHost.CreateBuilder(args.ToArray());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = SiloHost.Build(builder);
        map?.Invoke(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new RunningSilo(app, new Uri(address)) { DataPath = data };
    }

    /// <summary>Polls /readyz until 200 or the deadline; returns the last status and body.</summary>
    public async Task<(System.Net.HttpStatusCode Status, string Body)> WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var response = await Http.GetAsync(new Uri(SiloHost.ReadyPath, UriKind.Relative));
            var body = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode || DateTime.UtcNow > deadline)
            {
                return (response.StatusCode, body);
            }

            await Task.Delay(250);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(DataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
