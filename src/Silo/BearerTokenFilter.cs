using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FuseChat.Silo;

/// <summary>
/// Requires "Authorization: Bearer {token}" on an endpoint. Use it through
/// <see cref="ApiTokenEndpointExtensions.RequireApiToken{TBuilder}"/> (works on any endpoint, the dashboard included)
/// or directly as an endpoint filter on minimal-API handlers.
/// </summary>
/// <remarks>
/// Tokens are compared through their SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>, so
/// neither the content nor the length of the configured token leaks through timing. Tokens are never logged.
/// When no token is configured and <see cref="AllowsLoopbackWithoutToken"/> is set (embedded mode), loopback callers
/// pass and everyone else gets 403.
/// </remarks>
public sealed partial class BearerTokenFilter : IEndpointFilter
{
    /// <summary>The realm in WWW-Authenticate.</summary>
    public const string Realm = "fusechat";

    private readonly byte[]? _tokenDigest;
    private readonly ILogger _logger;

    /// <summary>Creates the filter.</summary>
    /// <param name="token">The expected token; null or empty when none is configured.</param>
    /// <param name="allowLoopbackWithoutToken">Without a token, let loopback callers through (embedded mode) instead of refusing everyone.</param>
    /// <param name="logger">Logs refusals (path and caller address, never the token).</param>
    public BearerTokenFilter(string? token, bool allowLoopbackWithoutToken, ILogger<BearerTokenFilter>? logger = null)
    {
        _tokenDigest = string.IsNullOrEmpty(token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));
        AllowsLoopbackWithoutToken = allowLoopbackWithoutToken;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Whether a token is configured.</summary>
    public bool HasToken => _tokenDigest is not null;

    /// <summary>Whether loopback callers pass when no token is configured.</summary>
    public bool AllowsLoopbackWithoutToken { get; }

    /// <summary>Checks a request: null when it may proceed, else the refusal to send (401 with WWW-Authenticate, or 403).</summary>
    /// <param name="context">The request.</param>
    /// <returns>Null, or the result to write instead of the endpoint's.</returns>
    public IResult? Check(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_tokenDigest is null)
        {
            if (AllowsLoopbackWithoutToken && IsLoopback(context.Connection.RemoteIpAddress))
            {
                return null;
            }

            Log.RefusedNoToken(_logger, context.Request.Path, context.Connection.RemoteIpAddress);
            return Results.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden",
                detail: "No API token is configured (FuseChat:ApiToken): this endpoint accepts loopback callers only.");
        }

        var presented = BearerToken(context.Request);
        if (presented is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _tokenDigest))
        {
            return null;
        }

        // RFC 6750: no credentials -> just the challenge; wrong credentials -> error="invalid_token".
        context.Response.Headers.WWWAuthenticate = presented is null
            ? $"Bearer realm=\"{Realm}\""
            : $"Bearer realm=\"{Realm}\", error=\"invalid_token\"";
        Log.RefusedToken(_logger, context.Request.Path, context.Connection.RemoteIpAddress, presented is not null);
        return Results.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Unauthorized",
            detail: "Send the API token as 'Authorization: Bearer <token>'.");
    }

    /// <inheritdoc />
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        return Check(context.HttpContext) ?? await next(context).ConfigureAwait(false);
    }

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        if (header.Length <= prefix.Length || !header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = header[prefix.Length..].Trim();
        return token.Length == 0 ? null : token;
    }

    private static bool IsLoopback(IPAddress? address) =>
        address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Refused {Path} from {RemoteAddress}: no API token is configured and the caller is not on loopback")]
        public static partial void RefusedNoToken(ILogger logger, PathString path, IPAddress? remoteAddress);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Refused {Path} from {RemoteAddress}: bearer token missing or wrong (presented: {Presented})")]
        public static partial void RefusedToken(ILogger logger, PathString path, IPAddress? remoteAddress, bool presented);
    }
}
