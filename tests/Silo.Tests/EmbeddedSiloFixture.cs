using FuseChat.Silo.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuseChat.Silo.Tests;

/// <summary>One embedded silo with an API token, shared by the tests of a class.</summary>
public sealed class EmbeddedSiloFixture : IAsyncLifetime
{
    public const string Token = "test-token-7b1e5c";

    public RunningSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Silo = await RunningSilo.StartAsync(
            new Dictionary<string, string?> { ["FuseChat:ApiToken"] = Token },
            app => app.MapGroup("/api").RequireApiToken().MapPost("/echo", (string? text) => Results.Ok(new { text })));
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}
