using Orleans.Storage;

namespace FuseChat.Grains.Storage;

/// <summary>Settings of <see cref="FileGrainStorage"/>.</summary>
public sealed class FileGrainStorageOptions
{
    /// <summary>The folder holding one JSON file per grain state; created on first write.</summary>
    public string Folder { get; set; } = string.Empty;

    /// <summary>When true, clearing a state deletes its file; when false it leaves a tombstone that keeps an ETag.</summary>
    public bool DeleteStateOnClear { get; set; }

    /// <summary>The state serializer; null uses the silo's <see cref="IGrainStorageSerializer"/>.</summary>
    public IGrainStorageSerializer? GrainStorageSerializer { get; set; }

    /// <summary>Throws an <see cref="Orleans.Runtime.OrleansConfigurationException"/> that says what to fix.</summary>
    /// <param name="name">The provider name, quoted in messages.</param>
    public void Validate(string name)
    {
        if (string.IsNullOrWhiteSpace(Folder))
        {
            throw new Orleans.Runtime.OrleansConfigurationException($"File grain storage '{name}': set Folder to the directory that holds grain state.");
        }

        if (File.Exists(Folder))
        {
            throw new Orleans.Runtime.OrleansConfigurationException($"File grain storage '{name}': Folder '{Folder}' is a file, not a directory.");
        }
    }
}
