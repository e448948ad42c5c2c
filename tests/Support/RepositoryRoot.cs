namespace FuseChat.Testing.Support;

/// <summary>The checkout the tests run from: fixtures, scripts and manifests are read from it.</summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> Found = new(Find);

    /// <summary>The folder that holds FuseChat.Orleans.sln, above the test assembly.</summary>
    public static string Path => Found.Value;

    /// <summary>A path under the root.</summary>
    /// <param name="parts">Its '/'-free parts, such as "tests", "fixtures".</param>
    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "FuseChat.Orleans.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException($"FuseChat.Orleans.sln not found above {AppContext.BaseDirectory}");
    }
}
