using System.Diagnostics;
using System.Text;

namespace FuseChat.Fusion.Tests.Support;

/// <summary>
/// The reference Python of tests/fixtures/fetch-reference-python.sh: a Debian sid root with pyarrow, transformers and
/// torch, entered through chroot. A workspace is a fresh folder inside that root, so files pass both ways by path:
/// <see cref="HostPath"/> is where this process reads and writes it, <see cref="RootPath"/> where the script sees it.
/// </summary>
public sealed class ReferencePython : IDisposable
{
    private readonly string _root;
    private readonly string _name;

    private ReferencePython(string root)
    {
        _root = root;
        _name = $"fusechat-test-{Guid.NewGuid():N}";
        Directory.CreateDirectory(Path.Combine(root, "tmp", _name));
    }

    /// <summary>The sid root: FUSECHAT_REFERENCE_ROOT, or .tools/reference-python in the repository.</summary>
    public static string Root => Environment.GetEnvironmentVariable("FUSECHAT_REFERENCE_ROOT") is { Length: > 0 } root
        ? root
        : Path.Combine(Tokenization.TokenizerFixtures.RepoRoot, ".tools", "reference-python");

    /// <summary>Opens a workspace; fails the test with the setup command when the root is missing.</summary>
    public static ReferencePython Open()
    {
        if (!File.Exists(Path.Combine(Root, ".fusechat-packages")))
        {
            Assert.Fail($"The reference python root is missing ({Root}). Run tests/fixtures/fetch-reference-python.sh first (needs root).");
        }

        return new ReferencePython(Root);
    }

    /// <summary>Where <paramref name="relative"/> inside the workspace is for this process.</summary>
    public string HostPath(string relative = "") => Path.Combine(_root, "tmp", _name, relative);

    /// <summary>Where <paramref name="relative"/> inside the workspace is for the script.</summary>
    public string RootPath(string relative = "") => Path.Combine("/tmp", _name, relative);

    /// <summary>Copies a host file into the workspace and returns its path for the script.</summary>
    public string CopyIn(string hostFile, string? name = null)
    {
        name ??= Path.GetFileName(hostFile);
        File.Copy(hostFile, HostPath(name), overwrite: true);
        return RootPath(name);
    }

    /// <summary>Copies the files of a host folder into the workspace and returns its path for the script.</summary>
    public string CopyFolderIn(string hostFolder, string name)
    {
        Directory.CreateDirectory(HostPath(name));
        foreach (var file in Directory.GetFiles(hostFolder))
            File.Copy(file, HostPath(Path.Combine(name, Path.GetFileName(file))), overwrite: true);
        return RootPath(name);
    }

    /// <summary>
    /// Runs tests/fixtures/<paramref name="script"/> under the root's python3 with <paramref name="arguments"/>
    /// (paths as the script sees them); fails the test with stderr when the script fails. Returns the non-empty
    /// stdout lines.
    /// </summary>
    public string[] Run(string script, params string[] arguments)
    {
        var scriptPath = CopyIn(Path.Combine(Tokenization.TokenizerFixtures.FixturesDir, script));
        var start = new ProcessStartInfo("chroot")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            WorkingDirectory = HostPath(),
        };
        foreach (var a in (string[])[_root, "/usr/bin/env", "HF_HUB_OFFLINE=1", "HOME=/root", "/usr/bin/python3", scriptPath, .. arguments])
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start chroot");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0) Assert.Fail($"{script} failed in the reference python ({process.ExitCode}): {stderr.Result}");
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Deletes the workspace.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(HostPath(), recursive: true);
        }
        catch (IOException)
        {
            // A leftover folder in the root's /tmp is harmless; the next build of the root starts clean.
        }
    }
}
