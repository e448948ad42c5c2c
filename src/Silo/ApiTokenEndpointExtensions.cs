using Microsoft.AspNetCore.Builder;

namespace FuseChat.Silo;

/// <summary>Marks endpoints as requiring the API token (see <see cref="BearerTokenFilter"/>).</summary>
public static class ApiTokenEndpointExtensions
{
    /// <summary>
    /// Requires the API token on every endpoint of <paramref name="builder"/> (a route group, a single endpoint, or
    /// endpoints such as the dashboard that are not minimal-API handlers). Enforced by the middleware that
    /// <see cref="SiloHost.Build"/> installs.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoints.</param>
    /// <returns>The builder.</returns>
    public static TBuilder RequireApiToken<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Metadata plus middleware rather than an endpoint filter: filters apply only to minimal-API handlers, and the
        // dashboard maps plain request delegates.
        return builder.WithMetadata(ApiTokenRequiredMetadata.Instance);
    }
}
