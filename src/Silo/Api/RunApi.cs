using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using FuseChat.Grains.Interfaces.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FuseChat.Silo.Api;

/// <summary>
/// The HTTP API for clients in any language: start, list, inspect, cancel and follow fusion runs.
/// Requests that change something need the API token (see docs/configuration.md); reading does not.
/// </summary>
public static partial class RunApi
{
    /// <summary>JSON settings of the API: camelCase, enums as strings.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Maps /api/runs endpoints.</summary>
    public static IEndpointRouteBuilder MapRunApi(this IEndpointRouteBuilder app)
    {
        var runs = app.MapGroup("/api/runs");
        runs.MapPost("", StartAsync).RequireApiToken();
        runs.MapPost("/{id}/cancel", async (string id, IGrainFactory grains) =>
            Results.Json(await grains.GetGrain<IFusionRunGrain>(id).CancelAsync(), Json)).RequireApiToken();
        runs.MapGet("", ListAsync);
        runs.MapGet("/{id}", async (string id, IGrainFactory grains) => await Known(grains, id) is { } status
            ? Results.Json(status, Json)
            : Results.NotFound(new { error = $"no run named '{id}'" }));
        runs.MapGet("/{id}/events", async (string id, long? after, IGrainFactory grains) =>
            Results.Json(await grains.GetGrain<IFusionRunGrain>(id).GetEventsAsync(after ?? 0), Json));
        runs.MapGet("/{id}/follow", FollowAsync);
        return app;
    }

    private static async Task<IResult> StartAsync(StartRunRequest request, IGrainFactory grains)
    {
        if (string.IsNullOrWhiteSpace(request.Spec)) return Results.BadRequest(new { error = "spec is empty" });
        if (string.IsNullOrWhiteSpace(request.SpecDirectory)) return Results.BadRequest(new { error = "specDirectory is empty" });
        var id = request.Id ?? NewId(request.Spec);
        if (!ValidId().IsMatch(id)) return Results.BadRequest(new { error = $"run id '{id}' must be 1-64 letters, digits, '-', '_' or '.'" });
        var status = await grains.GetGrain<IFusionRunGrain>(id).StartAsync(request.Spec, request.SpecDirectory);
        if (status.Problems.Count > 0) return Results.Json(status, Json, statusCode: StatusCodes.Status400BadRequest);
        await grains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key).AddAsync(id);
        return Results.Json(status, Json, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> ListAsync(IGrainFactory grains)
    {
        var ids = await grains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key).ListAsync();
        var statuses = await Task.WhenAll(ids.Select(id => grains.GetGrain<IFusionRunGrain>(id).GetStatusAsync()));
        return Results.Json(statuses.Select(s => new RunSummary(s.RunId, s.State, s.CurrentStage, s.FailureReason)), Json);
    }

    /// <summary>Server-sent events: "status" whenever it changes and "event" per run event, until the run ends.</summary>
    private static async Task FollowAsync(string id, HttpContext context, IGrainFactory grains)
    {
        var run = grains.GetGrain<IFusionRunGrain>(id);
        if (await Known(grains, id) is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var cancel = context.RequestAborted;
        long after = 0;
        string? last = null;
        while (!cancel.IsCancellationRequested)
        {
            foreach (var e in await run.GetEventsAsync(after))
            {
                await Send(context, "event", JsonSerializer.Serialize(e, Json), cancel);
                after = Math.Max(after, e.Sequence);
            }
            var status = await run.GetStatusAsync();
            var json = JsonSerializer.Serialize(status, Json);
            if (json != last) await Send(context, "status", json, cancel);
            last = json;
            if (status.State is RunState.Completed or RunState.Failed or RunState.Cancelled) break;
            await Task.Delay(TimeSpan.FromSeconds(1), cancel).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static async Task Send(HttpContext context, string name, string data, CancellationToken cancel)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {data}\n\n", cancel);
        await context.Response.Body.FlushAsync(cancel);
    }

    /// <summary>The run's status, or null when no run of that id was ever started.</summary>
    private static async Task<RunStatus?> Known(IGrainFactory grains, string id)
    {
        var ids = await grains.GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key).ListAsync();
        return ids.Contains(id) ? await grains.GetGrain<IFusionRunGrain>(id).GetStatusAsync() : null;
    }

    private static string NewId(string spec)
    {
        var name = NameLine().Match(spec) is { Success: true } m ? m.Groups[1].Value : "run";
        var clean = new string([.. name.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')]);
        return $"{(clean.Length == 0 ? "run" : clean[..Math.Min(clean.Length, 32)])}-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{Random.Shared.Next(0x1000, 0xFFFF):x4}";
    }

    [GeneratedRegex(@"^name:\s*(\S+)", RegexOptions.Multiline)]
    private static partial Regex NameLine();

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex ValidId();
}
