using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuseChat.Silo.Tests;

public sealed class BearerTokenFilterTests
{
    private const string Token = "s3cret-token";

    [Fact]
    public void The_right_token_passes()
    {
        Assert.Null(new BearerTokenFilter(Token, false).Check(Request("Bearer " + Token, IPAddress.Parse("10.1.2.3"))));
    }

    [Fact]
    public void The_scheme_is_case_insensitive()
    {
        Assert.Null(new BearerTokenFilter(Token, false).Check(Request("bearer " + Token, IPAddress.Loopback)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer ")]
    [InlineData("Basic czNjcmV0LXRva2Vu")]
    public async Task No_token_is_401_with_a_challenge(string? header)
    {
        var context = Request(header, IPAddress.Loopback);
        var result = new BearerTokenFilter(Token, allowLoopbackWithoutToken: true).Check(context);
        Assert.Equal(StatusCodes.Status401Unauthorized, await StatusOf(result, context));
        Assert.Equal("Bearer realm=\"fusechat\"", context.Response.Headers.WWWAuthenticate.ToString());
    }

    [Theory]
    [InlineData("s3cret-toke")]
    [InlineData("s3cret-token2")]
    [InlineData("S3CRET-TOKEN")]
    public async Task A_wrong_token_is_401_invalid_token(string presented)
    {
        var context = Request("Bearer " + presented, IPAddress.Loopback);
        var result = new BearerTokenFilter(Token, false).Check(context);
        Assert.Equal(StatusCodes.Status401Unauthorized, await StatusOf(result, context));
        Assert.Contains("error=\"invalid_token\"", context.Response.Headers.WWWAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    public void Without_a_configured_token_loopback_passes_in_embedded_mode(string address)
    {
        Assert.Null(new BearerTokenFilter(null, allowLoopbackWithoutToken: true).Check(Request(null, IPAddress.Parse(address))));
    }

    [Fact]
    public async Task Without_a_configured_token_remote_callers_get_403()
    {
        var context = Request(null, IPAddress.Parse("192.168.1.20"));
        var result = new BearerTokenFilter(null, allowLoopbackWithoutToken: true).Check(context);
        Assert.Equal(StatusCodes.Status403Forbidden, await StatusOf(result, context));
    }

    [Fact]
    public async Task Without_a_configured_token_and_no_loopback_allowance_everyone_gets_403()
    {
        var context = Request(null, IPAddress.Loopback);
        Assert.Equal(StatusCodes.Status403Forbidden, await StatusOf(new BearerTokenFilter("", false).Check(context), context));
    }

    [Fact]
    public void Refusals_never_log_the_presented_or_configured_token()
    {
        var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var filter = new BearerTokenFilter(Token, false, factory.CreateLogger<BearerTokenFilter>());
        filter.Check(Request("Bearer wrong-" + Token, IPAddress.Loopback));
        Assert.NotEmpty(logs.Lines);
        Assert.All(logs.Lines, line => Assert.DoesNotContain(Token, line, StringComparison.Ordinal));
    }

    private static DefaultHttpContext Request(string? authorization, IPAddress remote)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = remote;
        context.Request.Path = "/api/runs";
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        return context;
    }

    private static async Task<int> StatusOf(IResult? result, DefaultHttpContext context)
    {
        Assert.NotNull(result);
        context.RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider();
        context.Response.Body = new MemoryStream();
        await result.ExecuteAsync(context);
        return context.Response.StatusCode;
    }

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        public List<string> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => new ListLogger(Lines);

        public void Dispose()
        {
        }

        private sealed class ListLogger(List<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (lines)
                {
                    lines.Add(formatter(state, exception) + " " + string.Join(",", (state as IEnumerable<KeyValuePair<string, object?>>)?.Select(p => $"{p.Key}={p.Value}") ?? []));
                }
            }
        }
    }
}
