using FuseChat.Grains.Planning;
using FuseChat.Grains.Runs;
using FuseChat.Grains.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FuseChat.Silo.Api;

/// <summary>
/// POST /api/plans: what <c>fusechat plan</c> computes, done by a silo, for specs whose models or data are
/// <c>artifact:</c> paths in the silos' artifact store (which a client machine may not reach): the silo pulls
/// config.json, the tokenizer files and the data into a temporary folder (never the weights), estimates, and deletes
/// the folder. Needs the API token, as it reads the store and spends a silo's CPU.
/// </summary>
public static class PlanApi
{
    /// <summary>Maps POST /api/plans.</summary>
    public static IEndpointRouteBuilder MapPlanApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/plans", EstimateAsync).RequireApiToken();
        return app;
    }

    private static async Task<IResult> EstimateAsync(PlanRequest request, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Spec)) return Results.BadRequest(new { error = "spec is empty" });
        if (string.IsNullOrWhiteSpace(request.SpecDirectory)) return Results.BadRequest(new { error = "specDirectory is empty" });
        var tflops = request.EffectiveTflops ?? RunCostEstimator.DefaultEffectiveTflops;
        if (!(tflops > 0)) return Results.BadRequest(new { error = "effectiveTflops must be positive" });
        var validation = RunSpecValidator.Validate(request.Spec, request.SpecDirectory);
        if (!validation.IsValid) return Results.BadRequest(new { error = "the spec has problems", problems = validation.Problems });

        var folder = Directory.CreateTempSubdirectory("fusechat-plan-");
        try
        {
            var spec = validation.Spec!;
            if (RunCostInputs.AnyInStore(spec))
                spec = await RunCostInputs.FetchAsync(services.GetRequiredService<IArtifactStore>(), spec, folder.FullName, cancellationToken);
            // Tokenizing a corpus is CPU work: off the request thread.
            var cost = await Task.Run(() => RunCostEstimator.Estimate(spec, tflops), cancellationToken);
            return Results.Json(cost, RunApi.Json);
        }
        catch (Exception e) when (RunCostEstimator.IsInputProblem(e))
        {
            return Results.BadRequest(new { error = e.Message });
        }
        catch (StorageOperationException e)
        {
            return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
