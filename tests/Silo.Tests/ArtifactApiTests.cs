using System.Net;
using System.Net.Http.Headers;
using FuseChat.Client.Api;
using FuseChat.Silo.Tests.Support;

namespace FuseChat.Silo.Tests;

/// <summary>The artifact store over HTTP (/api/artifacts) and the client's resumable folder transfers over it.</summary>
public sealed class ArtifactApiTests(EmbeddedSiloFixture fixture) : IClassFixture<EmbeddedSiloFixture>
{
    private RunningSilo Silo => fixture.Silo;

    private FuseChatApiClient Client() => new(Silo.Address.ToString(), EmbeddedSiloFixture.Token);

    private HttpRequestMessage Request(HttpMethod method, string uri, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, new Uri(uri, UriKind.Relative)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EmbeddedSiloFixture.Token);
        return request;
    }

    [Fact]
    public async Task Listing_downloading_and_uploading_need_the_token()
    {
        using var list = await Silo.Http.GetAsync(new Uri("/api/artifacts?prefix=models/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        using var put = await Silo.Http.PutAsync(new Uri("/api/artifacts/models/x/config.json", UriKind.Relative), new ByteArrayContent([1, 2, 3]));
        Assert.Equal(HttpStatusCode.Unauthorized, put.StatusCode);
    }

    [Fact]
    public async Task A_folder_goes_up_and_comes_back_byte_for_byte_and_a_rerun_moves_only_what_is_missing()
    {
        using var local = new TempDirectory();
        var model = Path.Combine(local.Path, "model");
        Directory.CreateDirectory(Path.Combine(model, "sub"));
        Directory.CreateDirectory(Path.Combine(model, ".cache"));
        // Over Kestrel's default request body cap (30 MB), as every real weights file is.
        var weights = new byte[40 << 20];
        new Random(7).NextBytes(weights);
        File.WriteAllBytes(Path.Combine(model, "model.safetensors"), weights);
        File.WriteAllText(Path.Combine(model, "config.json"), """{"architectures": ["LlamaForCausalLM"]}""");
        File.WriteAllText(Path.Combine(model, "sub", "notes.txt"), "nested");
        File.WriteAllText(Path.Combine(model, ".cache", "junk"), "left out");

        using var client = Client();
        var order = new List<string>();
        var up = await ArtifactTransfer.UploadAsync(client, model, "artifact:models/transfer-test/", progress: new Recorder(order));
        var visible = new[] { "model.safetensors", "config.json", Path.Combine("sub", "notes.txt") }.Sum(f => new FileInfo(Path.Combine(model, f)).Length);
        Assert.Equal(new TransferSummary(3, 0, visible, 1), up);
        // config.json last: a model whose upload broke off has none, and runs refuse it instead of reading it half.
        Assert.Equal("models/transfer-test/config.json", order.Last(p => p.Length > 0));
        Assert.Equal(["models/transfer-test/config.json", "models/transfer-test/model.safetensors", "models/transfer-test/sub/notes.txt"],
            (await client.ListArtifactsAsync("models/transfer-test/")).Select(a => a.Path).Order(StringComparer.Ordinal));
        Assert.Equal(new TransferSummary(0, 3, 0, 1), await ArtifactTransfer.UploadAsync(client, model, "models/transfer-test"));

        // A newer version of the model without the nested file: the store's copy of it is reported, not deleted.
        var newer = Path.Combine(local.Path, "newer");
        Directory.CreateDirectory(newer);
        File.Copy(Path.Combine(model, "config.json"), Path.Combine(newer, "config.json"));
        var again = await ArtifactTransfer.UploadAsync(client, newer, "models/transfer-test");
        Assert.Equal(["models/transfer-test/model.safetensors", "models/transfer-test/sub/notes.txt"], again.Extra);

        var back = Path.Combine(local.Path, "back");
        Assert.Equal(3, (await ArtifactTransfer.DownloadAsync(client, "models/transfer-test", back)).Transferred);
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(back, "model.safetensors")));
        Assert.Equal("nested", File.ReadAllText(Path.Combine(back, "sub", "notes.txt")));
        Assert.False(Directory.Exists(Path.Combine(back, ".cache")));

        // A download cut short left a shorter file: only that one is fetched again.
        File.WriteAllBytes(Path.Combine(back, "model.safetensors"), weights.AsSpan(0, 1000).ToArray());
        Assert.Equal(new TransferSummary(1, 2, weights.Length, 0), await ArtifactTransfer.DownloadAsync(client, "models/transfer-test", back));
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(back, "model.safetensors")));

        // One artifact downloads as one file into the folder.
        var single = Path.Combine(local.Path, "single");
        await ArtifactTransfer.DownloadAsync(client, "models/transfer-test/sub/notes.txt", single);
        Assert.Equal("nested", File.ReadAllText(Path.Combine(single, "notes.txt")));
    }

    [Fact]
    public async Task Writes_under_runs_bad_paths_and_missing_artifacts_get_errors_that_name_them()
    {
        using var runs = await Silo.Http.SendAsync(Request(HttpMethod.Put, "/api/artifacts/runs/some-run/fused/config.json", new ByteArrayContent([1])));
        Assert.Equal(HttpStatusCode.BadRequest, runs.StatusCode);
        Assert.Contains("under runs/", await runs.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var missing = await Silo.Http.SendAsync(Request(HttpMethod.Get, "/api/artifacts/models/absent/config.json"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var body = await missing.Content.ReadAsStringAsync();
        Assert.Contains("no artifact 'models/absent/config.json'", body, StringComparison.Ordinal);
        Assert.DoesNotContain(Silo.DataPath, body, StringComparison.Ordinal); // the silo's folders are not the client's business

        using var bad = await Silo.Http.SendAsync(Request(HttpMethod.Get, "/api/artifacts?prefix=models/../secrets"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        using var client = Client();
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => ArtifactTransfer.DownloadAsync(client, "runs/never-ran/fused", Path.GetTempPath()));
        Assert.Contains("artifact:runs/never-ran/fused", e.Message, StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.UploadArtifactAsync(typeof(ArtifactApiTests).Assembly.Location, "runs/x/y.dll"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("where runs write their outputs", refused.Message, StringComparison.Ordinal);
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("fusechat-artifacts-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    private sealed class Recorder(List<string> files) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            if (files.Count == 0 || files[^1] != value.File) files.Add(value.File);
        }
    }
}
