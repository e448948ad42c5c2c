using FuseChat.Grains.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace FuseChat.Silo.Api;

/// <summary>
/// The silos' artifact store over HTTP, for clients that do not reach the store itself (a laptop outside the
/// cluster's network, a store without public access): <c>GET /api/artifacts?prefix=P</c> lists,
/// <c>GET /api/artifacts/{path}</c> downloads and <c>PUT /api/artifacts/{path}</c> uploads one artifact (committed
/// only once its body arrived whole). <c>fusechat upload</c> puts models and chats where specs name them as
/// <c>artifact:</c> paths; <c>fusechat download</c> fetches a run's fused model. Everything needs the API token: the
/// store holds model weights. Uploads under <c>runs/</c> are refused, since that is where runs write their own outputs.
/// </summary>
public static class ArtifactApi
{
    /// <summary>The prefix of the runs' own artifacts, which clients may read but not write.</summary>
    public const string RunsPrefix = "runs/";

    /// <summary>Maps the artifact endpoints.</summary>
    public static IEndpointRouteBuilder MapArtifactApi(this IEndpointRouteBuilder app)
    {
        var artifacts = app.MapGroup("/api/artifacts").RequireApiToken();
        artifacts.MapGet("", ListAsync);
        artifacts.MapGet("/{**path}", DownloadAsync);
        artifacts.MapPut("/{**path}", UploadAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(string? prefix, IArtifactStore store, CancellationToken cancellationToken)
    {
        prefix ??= "";
        if (prefix.Length > 0 && Invalid(prefix.TrimEnd('/')) is { } bad) return bad;
        try
        {
            var items = new List<ArtifactInfo>();
            await foreach (var item in store.ListAsync(prefix, cancellationToken)) items.Add(item);
            return Results.Json(items, RunApi.Json);
        }
        catch (StorageOperationException e)
        {
            return Unavailable(e);
        }
    }

    private static async Task<IResult> DownloadAsync(string path, IArtifactStore store, CancellationToken cancellationToken)
    {
        if (Invalid(path) is { } bad) return bad;
        try
        {
            return Results.Stream(await store.OpenReadAsync(path, cancellationToken), "application/octet-stream");
        }
        catch (FileNotFoundException)
        {
            // Not the store's message: a file store's names its folder on the silo.
            return Results.NotFound(new { error = $"no artifact '{path}' in the store" });
        }
        catch (StorageOperationException e)
        {
            return Unavailable(e);
        }
    }

    private static async Task<IResult> UploadAsync(string path, HttpContext context, IArtifactStore store, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (Invalid(path) is { } bad) return bad;
        if (path.StartsWith(RunsPrefix, StringComparison.Ordinal))
            return Results.BadRequest(new { error = $"'{path}' is under {RunsPrefix}, where runs write their outputs; upload models and data elsewhere (e.g. models/NAME/...)" });
        // Weights come in files of several GB; Kestrel's default cap (30 MB) is for forms, not for this.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        var expected = context.Request.ContentLength;
        try
        {
            var upload = await store.OpenWriteAsync(path, cancellationToken);
            await using (upload)
            {
                await context.Request.Body.CopyToAsync(upload, 1 << 20, cancellationToken);
                if (expected is { } length && upload.Length != length)
                    return Results.BadRequest(new { error = $"'{path}': {upload.Length} of {length} bytes arrived; nothing was stored" });
                await upload.CommitAsync(cancellationToken);
                loggers.CreateLogger(typeof(ArtifactApi)).LogInformation("Artifact {Path} uploaded ({Bytes} bytes)", path, upload.Length);
                return Results.Json(new ArtifactInfo(path, upload.Length, DateTimeOffset.UtcNow), RunApi.Json, statusCode: StatusCodes.Status201Created);
            }
        }
        catch (StorageOperationException e)
        {
            return Unavailable(e);
        }
    }

    private static IResult? Invalid(string path)
    {
        try
        {
            ArtifactPaths.Validate(path);
            return null;
        }
        catch (ArgumentException e)
        {
            return Results.BadRequest(new { error = e.Message });
        }
    }

    private static IResult Unavailable(StorageOperationException e) =>
        Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status503ServiceUnavailable);
}
