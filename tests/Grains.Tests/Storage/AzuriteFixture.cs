using FuseChat.Testing.Support;

namespace FuseChat.Grains.Tests.Storage;

/// <summary>
/// Runs the Azurite emulator from tests/fixtures/npm on loopback with free ports, so parallel runs never collide,
/// and stops it at the end.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>The emulator's well-known development account key (public, documented by Microsoft).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private ChildProcess? _process;
    private string? _location;

    public int BlobPort { get; private set; }

    public string ConnectionString => ConnectionStringFor(BlobPort);

    public static string ConnectionStringFor(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";

    public async Task InitializeAsync()
    {
        var root = RepositoryRoot.Path;
        var azurite = Path.Combine(root, "tests", "fixtures", "npm", "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite))
        {
            throw new InvalidOperationException($"Azurite is not installed at {azurite}: run tests/fixtures/fetch-npm.sh");
        }

        var ports = FreePorts.Take(3);
        BlobPort = ports[0];
        _location = Directory.CreateTempSubdirectory("azurite-").FullName;
        _process = ChildProcess.Start("Azurite", azurite,
        [
            "--silent", "--location", _location, "--blobHost", "127.0.0.1", "--blobPort", ports[0].ToString(),
            "--queueHost", "127.0.0.1", "--queuePort", ports[1].ToString(), "--tableHost", "127.0.0.1", "--tablePort", ports[2].ToString(),
            "--skipApiVersionCheck", "--loose",
        ]);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await _process.WaitUntilAsync(async () =>
        {
            // Any HTTP answer (even 400 for a bare GET) means the blob service is listening.
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{BlobPort}/devstoreaccount1?comp=list"));
            return true;
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
    }

    public Task DisposeAsync()
    {
        _process?.Dispose();
        if (_location is not null)
        {
            try
            {
                Directory.Delete(_location, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>A loopback port nobody listens on, for outage tests.</summary>
    public static int UnusedPort() => FreePorts.One();
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}
