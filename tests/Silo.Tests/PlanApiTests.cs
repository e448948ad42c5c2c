using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FuseChat.Fusion.Models;
using FuseChat.Silo.Api;
using FuseChat.Silo.Tests.Support;
using FuseChat.Testing.Support;

namespace FuseChat.Silo.Tests;

/// <summary>POST /api/plans: a silo estimates a spec whose model and chats are in its artifact store.</summary>
public sealed class PlanApiTests(EmbeddedSiloFixture fixture) : IClassFixture<EmbeddedSiloFixture>
{
    private RunningSilo Silo => fixture.Silo;

    private HttpRequestMessage Post(PlanRequest body, bool withToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/plans", UriKind.Relative)) { Content = JsonContent.Create(body, options: RunApi.Json) };
        if (withToken) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EmbeddedSiloFixture.Token);
        return request;
    }

    private const string Spec = """
        name: planned
        pivot: {path: 'artifact:models/plan-pivot', template: mistral}
        sources:
          - {name: source, path: 'artifact:models/plan-pivot'}
        data: {train: 'artifact:data/plan-chats.jsonl'}
        training: {dtype: bf16, optimizer_offload: true}
        output: {folder: out}
        """;

    [Fact]
    public async Task Planning_needs_the_token()
    {
        using var response = await Silo.Http.SendAsync(Post(new PlanRequest(Spec, Path.GetTempPath()), withToken: false));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_spec_with_inputs_in_the_store_is_estimated_from_them()
    {
        // The embedded silo's artifact store is the folder "artifacts" under its data path.
        var store = Path.Combine(Silo.DataPath, "artifacts");
        var tokenizer = Path.Combine(RepositoryRoot.Path, "tests", "fixtures", "npm", "node_modules", "@lenml", "tokenizer-llama2", "models");
        var model = TinyModelFolder.Create(Path.Combine(store, "models", "plan-pivot"), tokenizer, seed: 3);
        var chats = Path.Combine(store, "data", "plan-chats.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(chats)!);
        File.WriteAllLines(chats, ["""{"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello there."}]}"""]);
        var specFolder = Directory.CreateTempSubdirectory("fusechat-plan-spec-").FullName;
        try
        {
            using var response = await Silo.Http.SendAsync(Post(new PlanRequest(Spec, specFolder, 100), withToken: true));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            using var json = JsonDocument.Parse(body);
            var models = json.RootElement.GetProperty("models");
            Assert.Equal(2, models.GetArrayLength());
            using var built = new LlamaModel(DecoderConfig.From(Fusion.Checkpoints.ModelConfig.Load(model)));
            Assert.Equal(built.ParameterCount(), models[0].GetProperty("parameters").GetInt64());
            Assert.Equal(1, json.RootElement.GetProperty("conversations").GetInt32());
            Assert.Equal(100, json.RootElement.GetProperty("effectiveTflops").GetDouble());
            Assert.Equal(built.ParameterCount() * 12, json.RootElement.GetProperty("offloadedHostBytes").GetInt64());
            // Nothing of the estimate stays behind where the run would pull its inputs.
            Assert.False(Directory.Exists(Path.Combine(specFolder, "out")));
        }
        finally
        {
            Directory.Delete(specFolder, recursive: true);
        }
    }

    [Fact]
    public async Task A_model_the_store_lacks_is_named()
    {
        var spec = Spec.Replace("artifact:models/plan-pivot", "artifact:models/absent", StringComparison.Ordinal);
        using var response = await Silo.Http.SendAsync(Post(new PlanRequest(spec, Path.GetTempPath()), withToken: true));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("artifact:models/absent has no config.json in the artifact store", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
