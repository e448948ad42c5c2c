using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using FuseChat.Grains.Placement;
using FuseChat.Grains.Runs;
using FuseChat.Silo.Api;
using FuseChat.Grains.Storage;
using FuseChat.Grains.Telemetry;
using FuseChat.Torch;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime;
using StackExchange.Redis;


namespace FuseChat.Silo;

/// <summary>
/// The FuseChat silo: ASP.NET Core hosting Orleans, with /healthz, /readyz, /metrics (Prometheus) and the Orleans
/// Dashboard behind the API token. Hosted by the `fusechat silo` command; docs/configuration.md lists the settings.
/// </summary>
public static class SiloHost
{
    /// <summary>Liveness: 200 while the process serves HTTP.</summary>
    public const string HealthPath = "/healthz";

    /// <summary>Readiness: 200 once the silo is active and answers a system grain.</summary>
    public const string ReadyPath = "/readyz";

    /// <summary>Prometheus scraping endpoint.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The Orleans Dashboard (requires the API token).</summary>
    public const string DashboardPath = "/dashboard";

    /// <summary>The meter of the Orleans runtime, exported with <see cref="FuseChatMetrics.MeterName"/>.</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    private static readonly TimeSpan ReadinessProbeTimeout = TimeSpan.FromSeconds(5);

    // Seconds, for Orleans' request, activation and directory latencies: a millisecond to ten seconds.
    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Creates a builder from command-line arguments, environment variables and appsettings.json.</summary>
    /// <param name="args">Command-line arguments such as --FuseChat:Mode=Cluster or --urls http://0.0.0.0:8080.</param>
    /// <returns>The builder with the silo's services; add more, then call <see cref="Build"/>.</returns>
    /// <exception cref="OrleansConfigurationException">A setting is missing or invalid (the message names it).</exception>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        ConfigureServices(builder);
        return builder;
    }

    /// <summary>Creates a builder whose configuration also includes <paramref name="configuration"/> (which wins over the defaults).</summary>
    /// <param name="configuration">Settings, for example from the command line of the hosting program.</param>
    /// <returns>The builder with the silo's services.</returns>
    /// <exception cref="OrleansConfigurationException">A setting is missing or invalid (the message names it).</exception>
    public static WebApplicationBuilder CreateBuilder(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddConfiguration(configuration);
        ConfigureServices(builder);
        return builder;
    }

    /// <summary>Builds the application and maps the silo's endpoints and the API-token middleware.</summary>
    /// <param name="builder">A builder from <see cref="CreateBuilder(string[])"/>.</param>
    /// <returns>The application, ready to start.</returns>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var app = builder.Build();
        var options = app.Services.GetRequiredService<FuseChatSiloOptions>();
        var tokenFilter = app.Services.GetRequiredService<BearerTokenFilter>();
        SiloLog.Configured(app.Logger, options.Mode, options.ClusterId, options.ServiceId, options.SiloPort, options.GatewayPort, tokenFilter.HasToken);

        // Resolved now, so that a GPU that is not there stops the silo at start rather than failing its first run.
        if (app.Services.GetService<WorkDevice>() is { } workDevice)
        {
            try
            {
                SiloLog.ModelsOn(app.Logger, workDevice.Current.ToString(), TorchRuntime.Version);
            }
            catch (InvalidOperationException e)
            {
                throw new OrleansConfigurationException(e.Message, e);
            }
        }

        // Resolved so that the container owns the data folder's lock and releases it with the host.
        _ = app.Services.GetService<DataPathLock>();

        // Instruments must exist before the first scrape, not when a grain first asks for them.
        _ = app.Services.GetRequiredService<FuseChatMetrics>();
        _ = app.Services.GetRequiredService<OrleansMetricUnits>();

        app.UseRouting();
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<ApiTokenRequiredMetadata>() is not null
                && tokenFilter.Check(context) is { } refusal)
            {
                await refusal.ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });

        app.MapGet(HealthPath, () => Results.Ok(new { status = "up" }));
        app.MapGet(ReadyPath, ReadyAsync);
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        // The dashboard has no authentication of its own.
        app.MapOrleansDashboard(DashboardPath).RequireApiToken();
        app.MapRunApi();
        app.MapPlanApi();
        app.MapArtifactApi();
        return app;
    }

    /// <summary>Builds the application from <paramref name="args"/> (<see cref="CreateBuilder(string[])"/> then <see cref="Build"/>).</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns>The application, ready to start.</returns>
    public static WebApplication Create(string[] args) => Build(CreateBuilder(args));

    /// <summary>Runs the silo until <paramref name="cancellationToken"/> is cancelled or the host is asked to stop (Ctrl+C, SIGTERM).</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="cancellationToken">Stops the silo gracefully.</param>
    /// <returns>Completes when the silo has stopped.</returns>
    public static async Task RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var app = Create(args);
        await using (app.ConfigureAwait(false))
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads and checks the settings, with POD_IP and POD_NAME (Kubernetes downward API) as fallbacks.</summary>
    internal static FuseChatSiloOptions ReadOptions(IConfiguration configuration)
    {
        var options = configuration.GetSection(FuseChatSiloOptions.SectionName).Get<FuseChatSiloOptions>() ?? new FuseChatSiloOptions();
        options.AdvertisedIP = NullIfBlank(options.AdvertisedIP) ?? NullIfBlank(configuration["POD_IP"]);
        options.SiloName = NullIfBlank(options.SiloName) ?? NullIfBlank(configuration["POD_NAME"]);
        options.Validate();
        return options;
    }

    private static void ConfigureServices(WebApplicationBuilder builder)
    {
        var options = ReadOptions(builder.Configuration);
        // Process-wide libtorch settings: applied before any grain can run a model.
        if (options.TorchThreads is { } threads) TorchRuntime.Threads = threads;
        if (options.Deterministic) TorchRuntime.SetDeterministic(true);
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(sp => new BearerTokenFilter(options.ApiToken, options.Mode == SiloMode.Embedded, sp.GetService<ILogger<BearerTokenFilter>>()));

        services.AddSingleton<ArtifactTransferCounters>();
        if (options.Mode == SiloMode.Embedded)
        {
            // Taken here, before anything is written; disposed with the host's services (a factory registration).
            var dataLock = DataPathLock.Acquire(options.DataPath);
            services.AddSingleton(_ => dataLock);
            var artifacts = Path.GetFullPath(Path.Combine(options.DataPath, "artifacts"));
            services.AddSingleton<IArtifactStore>(sp => new FileArtifactStore(artifacts, sp.GetRequiredService<ArtifactTransferCounters>(), sp.GetService<ILogger<FileArtifactStore>>()));
        }
        else
        {
            var storeOptions = new BlobArtifactStoreOptions { ConnectionString = options.Storage.ConnectionString, ContainerName = options.Storage.ArtifactContainer };
            storeOptions.Validate();
            services.AddSingleton<IArtifactStore>(sp => new BlobArtifactStore(storeOptions, sp.GetRequiredService<ArtifactTransferCounters>(), sp.GetService<ILogger<BlobArtifactStore>>()));
        }

        // Workers take it as an optional service: without it they rely on a volume all silos share.
        if (options.Storage.MirrorsArtifacts(options.Mode))
        {
            services.AddSingleton<IRunArtifactMirrorFactory>(sp => new RunArtifactMirrorFactory(sp.GetRequiredService<IArtifactStore>(), loggerFactory: sp.GetService<ILoggerFactory>()));
            // Without it nothing pushed under runs/{run}/ is ever deleted: every checkpoint would stay in the container.
            services.AddSingleton(sp => new RunArtifactCleaner(sp.GetRequiredService<IArtifactStore>(), options.Storage.ArtifactRetention, logger: sp.GetService<ILogger<RunArtifactCleaner>>()));
        }

        // Run events (state changes, stage boundaries) become the runs-by-state and stage-progress series.
        services.AddSingleton<IFusionRunObserver, MetricsRunObserver>();
        services.AddSingleton(sp =>
        {
            var metrics = new FuseChatMetrics(sp.GetRequiredService<IMeterFactory>(), options.MetricsSeriesRetention);
            metrics.ObserveArtifactTransfers(sp.GetRequiredService<ArtifactTransferCounters>());
            return metrics;
        });
        services.AddSingleton(_ => new OrleansMetricUnits(OrleansMeterName));
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(FuseChatMetrics.MeterName, OrleansMeterName, OrleansMetricUnits.MeterName)
            .AddRuntimeInstrumentation()
            .AddView(ExportView)
            .AddPrometheusExporter());

        var allowCpuFallbackSet = builder.Configuration[$"{GpuSiloOptions.SectionName}:{nameof(GpuSiloOptions.AllowCpuFallback)}"] is not null;
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            if (options.Mode == SiloMode.Embedded)
            {
                ConfigureEmbedded(silo, options);
            }
            else
            {
                ConfigureCluster(silo, options);
            }

            // One embedded process has no GPU silo unless it says so: let model work run on its CPU unless configured.
            silo.UseFuseChatGpuPlacement(o =>
            {
                if (options.Mode == SiloMode.Embedded && !allowCpuFallbackSet)
                {
                    o.AllowCpuFallback = true;
                }
            });
            silo.AddDashboard();
        });
    }

    private static void ConfigureEmbedded(ISiloBuilder silo, FuseChatSiloOptions options)
    {
        silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, primarySiloEndpoint: null, options.ServiceId, options.ClusterId);
        var grains = Path.GetFullPath(Path.Combine(options.DataPath, "grains"));
        silo.AddFileGrainStorageAsDefault(grains);
        // The run grains write to a named storage so that operators can move it apart from the default.
        silo.AddFileGrainStorage(RunStorage.Name, grains);
        // Reminders on disk beside the grain state: after a restart, a run that was under way goes on by itself.
        var reminders = Path.GetFullPath(Path.Combine(options.DataPath, "reminders.json"));
        silo.AddReminders();
        silo.Services.AddSingleton<IReminderTable>(sp => new FileReminderTable(reminders, sp.GetService<ILogger<FileReminderTable>>()));
    }

    private static void ConfigureCluster(ISiloBuilder silo, FuseChatSiloOptions options)
    {
        var redis = options.Redis!;
        silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
        silo.UseRedisReminderService(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
        silo.AddAzureBlobGrainStorageAsDefault(o =>
        {
            o.ConnectionString = options.Storage.ConnectionString;
            o.ContainerName = options.Storage.GrainContainer;
        });
        silo.AddAzureBlobGrainStorage(RunStorage.Name, o =>
        {
            o.ConnectionString = options.Storage.ConnectionString;
            o.ContainerName = options.Storage.GrainContainer;
        });

        // Kubernetes without Microsoft.Orleans.Hosting.Kubernetes: advertise the pod IP, listen on every address.
        if (options.AdvertisedIP is { } ip)
        {
            silo.ConfigureEndpoints(IPAddress.Parse(ip), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
        }
        else
        {
            silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, AddressFamily.InterNetwork, listenOnAnyHostAddress: true);
        }

        if (options.SiloName is { } name)
        {
            silo.Configure<SiloOptions>(o => o.SiloName = name);
        }
    }

    private static async Task<IResult> ReadyAsync(ISiloStatusOracle oracle, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var status = oracle.CurrentStatus;
        if (status != SiloStatus.Active)
        {
            return Results.Json(new { status = status.ToString(), silo = oracle.SiloAddress.ToString() }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        try
        {
            // A call through the management grain proves messaging and the grain directory work, not just membership.
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)
                .WaitAsync(ReadinessProbeTimeout, cancellationToken).ConfigureAwait(false);
            return Results.Ok(new { status = "ready", silo = oracle.SiloAddress.ToString(), activeSilos = hosts.Count });
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Results.Json(new { status = "unreachable", silo = oracle.SiloAddress.ToString(), error = e.GetType().Name }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>
    /// Makes the whole scrape pass promtool: Orleans instruments in ms or MB are exported converted by
    /// <see cref="OrleansMetricUnits"/> instead; instruments without a description get one; runtime gauges named
    /// "*.count" get another name.
    /// </summary>
    private static MetricStreamConfiguration? ExportView(Instrument instrument)
    {
        if (instrument.Meter.Name == OrleansMeterName && OrleansMetricUnits.Converts(instrument.Unit)) return MetricStreamConfiguration.Drop;
        var description = string.IsNullOrEmpty(instrument.Description) ? OrleansMetricDescriptions.For(instrument) : null;
        if (instrument.Meter.Name == OrleansMetricUnits.MeterName && instrument.Unit == "s" && instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal))
            return new ExplicitBucketHistogramConfiguration { Boundaries = LatencyBuckets, Description = description };
        var name = OrleansMetricDescriptions.RenameOf(instrument.Name);
        return name is null && description is null ? null : new MetricStreamConfiguration { Name = name, Description = description };
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
