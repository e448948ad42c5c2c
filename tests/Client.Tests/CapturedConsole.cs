using Spectre.Console;

namespace FuseChat.Client.Tests;

/// <summary>A Spectre console that writes plain text (no colours, no live display) into a string, for assertions.</summary>
internal static class CapturedConsole
{
    public static IAnsiConsole Create(out StringWriter output)
    {
        output = new StringWriter();
        return AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No, ColorSystem = ColorSystemSupport.NoColors });
    }
}
