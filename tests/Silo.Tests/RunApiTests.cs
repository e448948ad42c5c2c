using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FuseChat.Silo.Api;
using FuseChat.Silo.Tests.Support;

namespace FuseChat.Silo.Tests;

public sealed class RunApiTests(EmbeddedSiloFixture fixture) : IClassFixture<EmbeddedSiloFixture>
{
    private RunningSilo Silo => fixture.Silo;

    private HttpRequestMessage Post(string path, object body, bool withToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body, options: RunApi.Json) };
        if (withToken) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EmbeddedSiloFixture.Token);
        return request;
    }

    [Fact]
    public async Task Starting_a_run_needs_the_token()
    {
        using var response = await Silo.Http.SendAsync(Post("/api/runs", new StartRunRequest("name: x", "/tmp"), withToken: false));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_invalid_spec_is_rejected_with_every_problem_and_not_listed()
    {
        var spec = "name: broken\npivot: {path: /nonexistent/pivot, template: nope}\nsources: []\n";
        using var response = await Silo.Http.SendAsync(Post("/api/runs", new StartRunRequest(spec, Path.GetTempPath(), "broken-1"), withToken: true));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var problems = body.RootElement.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.True(problems.Count >= 3, string.Join("\n", problems));
        Assert.Contains(problems, p => p.Contains("nope", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("/nonexistent/pivot", StringComparison.Ordinal));
        using var list = await Silo.Http.GetAsync(new Uri("/api/runs", UriKind.Relative));
        Assert.DoesNotContain("broken-1", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_run_id_is_refused()
    {
        using var response = await Silo.Http.SendAsync(Post("/api/runs", new StartRunRequest("name: x", "/tmp", "no/slashes"), withToken: true));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("run id", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_runs_are_404_and_the_list_is_json()
    {
        using var status = await Silo.Http.GetAsync(new Uri("/api/runs/never-started", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        using var follow = await Silo.Http.GetAsync(new Uri("/api/runs/never-started/follow", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, follow.StatusCode);
        using var list = await Silo.Http.GetAsync(new Uri("/api/runs", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.ValueKind);
    }
}
