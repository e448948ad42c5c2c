using System.Net;
using FuseChat.Silo.Tests.Support;

namespace FuseChat.Silo.Tests;

public sealed class EmbeddedWithoutTokenTests
{
    [Fact]
    public async Task Without_a_token_an_embedded_silo_lets_loopback_callers_reach_protected_endpoints()
    {
        await using var silo = await RunningSilo.StartAsync(new Dictionary<string, string?>());
        using var response = await silo.Http.GetAsync(new Uri("/dashboard/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
