namespace FuseChat.Grains.Storage;

/// <summary>Checks artifact paths, so that a path means the same in a container and in a folder.</summary>
public static class ArtifactPaths
{
    /// <summary>Returns <paramref name="path"/> when it is a relative '/'-separated path of 1 to 1024 characters.</summary>
    /// <param name="path">The artifact path.</param>
    /// <returns>The path.</returns>
    /// <exception cref="ArgumentException">It is empty, too long, absolute, has '.', '..' or empty segments, a backslash or a control character.</exception>
    public static string Validate(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length is 0 or > 1024)
        {
            throw new ArgumentException("An artifact path has 1 to 1024 characters.", nameof(path));
        }

        if (path.Contains('\\', StringComparison.Ordinal) || path.Any(char.IsControl))
        {
            throw new ArgumentException($"Artifact path '{path}' has a backslash or a control character; use '/' between segments.", nameof(path));
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..")
            {
                throw new ArgumentException($"Artifact path '{path}' must be relative, with no empty, '.' or '..' segments.", nameof(path));
            }
        }

        return path;
    }
}
