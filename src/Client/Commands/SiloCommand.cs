using System.CommandLine;
using FuseChat.Silo;

namespace FuseChat.Client.Commands;

/// <summary>
/// <c>fusechat silo [--http-port N] [--bind ADDRESS] [--Key=Value ...]</c>: runs a silo (embedded by default:
/// one process, no servers) with its HTTP endpoints. Further settings are passed through as configuration,
/// e.g. <c>--FuseChat:Mode=Cluster</c>; docs/configuration.md lists them.
/// </summary>
internal static class SiloCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--http-port") { Description = "HTTP port for the API, /healthz, /readyz, /metrics and /dashboard.", DefaultValueFactory = _ => 8080 };
        var bind = new Option<string>("--bind") { Description = "Address to listen on (0.0.0.0 in containers).", DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("silo", "Run a FuseChat silo (embedded unless configured otherwise; see docs/configuration.md).")
        {
            port, bind,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellation) =>
        {
            string[] args = ["--urls", $"http://{parse.GetValue(bind)}:{parse.GetValue(port)}", .. parse.UnmatchedTokens];
            try
            {
                await SiloHost.RunAsync(args, cancellation).ConfigureAwait(false);
                return 0;
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
            catch (Exception e) when (e is Orleans.Runtime.OrleansConfigurationException or InvalidOperationException or IOException)
            {
                await Console.Error.WriteLineAsync($"silo failed: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }
}
