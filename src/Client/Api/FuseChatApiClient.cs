using System.Net.Http.Headers;
using System.Net.Http.Json;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Planning;
using FuseChat.Grains.Storage;
using FuseChat.Silo.Api;

namespace FuseChat.Client.Api;

/// <summary>
/// A small .NET client of the silo's HTTP API (<see cref="RunApi"/>, <see cref="PlanApi"/>, <see cref="ArtifactApi"/>).
/// The server defaults to FUSECHAT_SERVER or http://127.0.0.1:8080, the token to FUSECHAT_API_TOKEN.
/// </summary>
public sealed class FuseChatApiClient : IDisposable
{
    private readonly HttpClient http;
    // Model weights take longer than any request timeout; transfers are bounded by their cancellation instead.
    private readonly HttpClient transfers;

    /// <summary>Creates a client of <paramref name="server"/>, sending <paramref name="token"/> as a bearer token when given.</summary>
    public FuseChatApiClient(string? server = null, string? token = null)
    {
        server ??= Environment.GetEnvironmentVariable("FUSECHAT_SERVER") ?? "http://127.0.0.1:8080";
        token ??= Environment.GetEnvironmentVariable("FUSECHAT_API_TOKEN");
        http = new HttpClient { BaseAddress = new Uri(server.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(100) };
        transfers = new HttpClient { BaseAddress = http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            transfers.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>The server's address.</summary>
    public Uri Server => http.BaseAddress!;

    /// <summary>Starts a run from a spec file; a rejected spec comes back with its problems.</summary>
    public async Task<RunStatus> StartAsync(string specPath, string? id = null, CancellationToken cancellation = default)
    {
        var full = Path.GetFullPath(specPath);
        var request = new StartRunRequest(await File.ReadAllTextAsync(full, cancellation), Path.GetDirectoryName(full)!, id);
        using var response = await http.PostAsJsonAsync("api/runs", request, RunApi.Json, cancellation);
        if (response.StatusCode == System.Net.HttpStatusCode.BadRequest && response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            var rejected = await response.Content.ReadFromJsonAsync<RunStatus>(RunApi.Json, cancellation);
            if (rejected is { Problems.Count: > 0 }) return rejected;
        }
        await Ensure(response, cancellation);
        return (await response.Content.ReadFromJsonAsync<RunStatus>(RunApi.Json, cancellation))!;
    }

    /// <summary>
    /// Asks the silo for the cost estimate of a spec (POST /api/plans), which it computes with its artifact store at
    /// hand; a rejected request comes back as an <see cref="HttpRequestException"/> carrying the silo's error.
    /// </summary>
    public async Task<RunCost> PlanAsync(string specPath, double effectiveTflops, CancellationToken cancellation = default)
    {
        var full = Path.GetFullPath(specPath);
        var request = new PlanRequest(await File.ReadAllTextAsync(full, cancellation), Path.GetDirectoryName(full)!, effectiveTflops);
        using var response = await http.PostAsJsonAsync("api/plans", request, RunApi.Json, cancellation);
        await Ensure(response, cancellation);
        return (await response.Content.ReadFromJsonAsync<RunCost>(RunApi.Json, cancellation))!;
    }

    /// <summary>A run's status.</summary>
    public async Task<RunStatus> StatusAsync(string id, CancellationToken cancellation = default)
    {
        using var response = await http.GetAsync($"api/runs/{Uri.EscapeDataString(id)}", cancellation);
        await Ensure(response, cancellation);
        return (await response.Content.ReadFromJsonAsync<RunStatus>(RunApi.Json, cancellation))!;
    }

    /// <summary>Every run the cluster knows.</summary>
    public async Task<IReadOnlyList<RunSummary>> ListAsync(CancellationToken cancellation = default)
    {
        using var response = await http.GetAsync("api/runs", cancellation);
        await Ensure(response, cancellation);
        return (await response.Content.ReadFromJsonAsync<List<RunSummary>>(RunApi.Json, cancellation))!;
    }

    /// <summary>Events after <paramref name="after"/>.</summary>
    public async Task<IReadOnlyList<RunEvent>> EventsAsync(string id, long after, CancellationToken cancellation = default)
    {
        using var response = await http.GetAsync($"api/runs/{Uri.EscapeDataString(id)}/events?after={after}", cancellation);
        await Ensure(response, cancellation);
        return (await response.Content.ReadFromJsonAsync<List<RunEvent>>(RunApi.Json, cancellation))!;
    }

    /// <summary>Cancels a run.</summary>
    public async Task<RunStatus> CancelAsync(string id, CancellationToken cancellation = default)
    {
        using var response = await http.PostAsync($"api/runs/{Uri.EscapeDataString(id)}/cancel", null, cancellation);
        await Ensure(response, cancellation);
        return (await response.Content.ReadFromJsonAsync<RunStatus>(RunApi.Json, cancellation))!;
    }

    /// <summary>The artifacts in the silos' store whose paths start with <paramref name="prefix"/>.</summary>
    public async Task<IReadOnlyList<ArtifactInfo>> ListArtifactsAsync(string prefix, CancellationToken cancellation = default)
    {
        using var response = await http.GetAsync($"api/artifacts?prefix={Uri.EscapeDataString(prefix)}", cancellation);
        await Ensure(response, cancellation);
        return (await response.Content.ReadFromJsonAsync<List<ArtifactInfo>>(RunApi.Json, cancellation))!;
    }

    /// <summary>Uploads <paramref name="localFile"/> as artifact <paramref name="path"/>, reporting the bytes sent.</summary>
    public async Task UploadArtifactAsync(string localFile, string path, IProgress<long>? progress = null, CancellationToken cancellation = default)
    {
        var file = new FileStream(localFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using var content = new StreamContent(new ProgressStream(file, progress), 1 << 20);
        content.Headers.ContentLength = file.Length;
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await transfers.PutAsync(ArtifactUri(path), content, cancellation);
        await Ensure(response, cancellation);
    }

    /// <summary>
    /// Downloads artifact <paramref name="path"/> to <paramref name="localFile"/> (its folder is created), reporting the
    /// bytes received; the file is written under a temporary name and renamed, so it appears whole or not at all.
    /// </summary>
    public async Task DownloadArtifactAsync(string path, string localFile, IProgress<long>? progress = null, CancellationToken cancellation = default)
    {
        using var response = await transfers.GetAsync(ArtifactUri(path), HttpCompletionOption.ResponseHeadersRead, cancellation);
        await Ensure(response, cancellation);
        await PartFile.WriteAsync(localFile, async destination =>
        {
            await using var source = new ProgressStream(await response.Content.ReadAsStreamAsync(cancellation), progress);
            await source.CopyToAsync(destination, 1 << 20, cancellation);
        });
    }

    /// <summary>The "error" of a JSON error body (what the silo's endpoints answer), else the body as it came.</summary>
    private static string ErrorOf(string body)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind != System.Text.Json.JsonValueKind.Object || !root.TryGetProperty("error", out var error) || error.ValueKind != System.Text.Json.JsonValueKind.String)
                return body;
            // A rejected spec lists its problems beside the error.
            return root.TryGetProperty("problems", out var problems) && problems.ValueKind == System.Text.Json.JsonValueKind.Array
                ? $"{error.GetString()}: {string.Join("; ", problems.EnumerateArray().Select(p => p.ToString()))}"
                : error.GetString()!;
        }
        catch (System.Text.Json.JsonException)
        {
            return body;
        }
    }

    private static string ArtifactUri(string path) => "api/artifacts/" + string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private async Task Ensure(HttpResponseMessage response, CancellationToken cancellation)
    {
        if (response.IsSuccessStatusCode) return;
        var body = (await response.Content.ReadAsStringAsync(cancellation)).Trim();
        throw new HttpRequestException($"{(int)response.StatusCode} {response.ReasonPhrase} from {Server}: {ErrorOf(body)}", null, response.StatusCode);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        http.Dispose();
        transfers.Dispose();
    }
}
