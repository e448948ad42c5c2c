using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace FuseChat.Testing.Support;

/// <summary>
/// A server started for a test or a benchmark (redis-server, Azurite, a silo), its stdout and stderr kept in memory
/// or, for long runs, appended to a log file.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter? _log;
    private readonly string? _logPath;
    private readonly StringBuilder _output = new();
    // The last lines of a process that logs to a file, for error messages: a test's temporary folder, log included,
    // is gone by the time anyone reads "see LOG".
    private readonly Queue<string> _tail = new();
    private readonly Lock _gate = new();
    private const int TailLines = 20;

    private ChildProcess(string name, Process process, string? logPath, StreamWriter? log)
    {
        Name = name;
        _process = process;
        _logPath = logPath;
        _log = log;
    }

    /// <summary>What error messages and the caller's output call it.</summary>
    public string Name { get; }

    /// <summary>The operating-system process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the process is gone.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>What the process has written so far, or, when it goes to a log file, where to read it and its last lines.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _logPath is null ? "output: " + _output : $"see {_logPath}; its last lines:\n{string.Join('\n', _tail)}";
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="file"/> with <paramref name="arguments"/>; stdout and stderr go to
    /// <paramref name="logPath"/>, or to <see cref="Output"/> when it is null.
    /// </summary>
    public static ChildProcess Start(string name, string file, IEnumerable<string> arguments, string? logPath = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The log opens first, so a bad path fails before there is a process to leave behind.
        var log = logPath is null ? null : new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{name} ({file}) did not start");
        var child = new ChildProcess(name, process, logPath, log);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>
    /// Polls <paramref name="ready"/> every <paramref name="pollInterval"/> (250 ms unless given) until it is true;
    /// fails when the process exits or the deadline passes. Connection errors from the probe count as not ready yet.
    /// </summary>
    public async Task WaitUntilAsync(Func<Task<bool>> ready, TimeSpan timeout, TimeSpan? pollInterval = null)
    {
        ArgumentNullException.ThrowIfNull(ready);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode}; {Output}");
            }

            try
            {
                if (await ready())
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or SocketException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} was not ready within {timeout.TotalSeconds:F0} s; {Output}");
            }

            await Task.Delay(pollInterval ?? TimeSpan.FromMilliseconds(250));
        }
    }

    /// <summary>SIGKILL to this process alone: it gets no chance to clean up, and its children are left running.</summary>
    public void KillHard()
    {
        if (_process.HasExited)
        {
            return;
        }

        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    /// <summary>Kills the process and its children if it still runs, and closes the log.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already reaped.
        }

        _process.Dispose();
        lock (_gate)
        {
            _log?.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_log is null)
            {
                _output.AppendLine(line);
                return;
            }

            _tail.Enqueue(line);
            if (_tail.Count > TailLines) _tail.Dequeue();
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output that arrives after Dispose.
            }
        }
    }
}
