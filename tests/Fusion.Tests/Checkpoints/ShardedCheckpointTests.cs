using System.Text.Json;
using FuseChat.Fusion.Checkpoints;

namespace FuseChat.Fusion.Tests.Checkpoints;

public class ShardedCheckpointTests
{
    private static List<(TensorDeclaration Declaration, byte[] Data)> SampleTensors()
    {
        var list = new List<(TensorDeclaration, byte[])>();
        var seed = 10;
        foreach (var (name, dtype, shape) in new (string, SafetensorsDType, long[])[]
        {
            ("model.embed_tokens.weight", SafetensorsDType.BF16, [64, 16]),
            ("model.layers.0.self_attn.q_proj.weight", SafetensorsDType.F32, [16, 16]),
            ("model.layers.0.self_attn.q_proj.bias", SafetensorsDType.F16, [16]),
            ("model.layers.0.mlp.up_proj.weight", SafetensorsDType.BF16, [40, 16]),
            ("model.layers.1.mlp.up_proj.weight", SafetensorsDType.BF16, [40, 16]),
            ("model.norm.weight", SafetensorsDType.F32, [16]),
            ("counts", SafetensorsDType.I64, [3]),
            ("empty", SafetensorsDType.F32, [0]),
        })
        {
            var d = new TensorDeclaration(name, dtype, [.. shape]);
            list.Add((d, SafetensorsTestData.RandomBytes(d.ByteLength, seed++)));
        }

        return list;
    }

    private static void WriteSharded(string folder, List<(TensorDeclaration Declaration, byte[] Data)> tensors, long maxShard)
    {
        using var writer = new ShardedCheckpointWriter(folder, tensors.Select(t => t.Declaration), maxShard);
        foreach (var (d, data) in tensors.AsEnumerable().Reverse())
        {
            writer.WriteTensor(d.Name, data);
        }

        writer.Complete();
    }

    [Fact]
    public void ShardedEqualsSingleFile()
    {
        using var dir = new TempFolder();
        var tensors = SampleTensors();
        var singleFolder = Path.Combine(dir.Path, "single");
        var shardedFolder = Path.Combine(dir.Path, "sharded");
        WriteSharded(singleFolder, tensors, long.MaxValue);
        WriteSharded(shardedFolder, tensors, 2500);

        Assert.Equal(["model.safetensors"], Directory.GetFiles(singleFolder).Select(Path.GetFileName));
        var shardedFiles = Directory.GetFiles(shardedFolder).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        Assert.Contains("model.safetensors.index.json", shardedFiles);
        Assert.Contains("model-00001-of-00003.safetensors", shardedFiles);
        Assert.Contains("model-00003-of-00003.safetensors", shardedFiles);
        Assert.Equal(4, shardedFiles.Length);

        using var single = CheckpointReader.Open(singleFolder);
        using var sharded = CheckpointReader.Open(shardedFolder);
        Assert.False(single.IsSharded);
        Assert.True(sharded.IsSharded);
        Assert.Equal(3, sharded.ShardFiles.Count);
        Assert.Equal(single.TensorNames, sharded.TensorNames);
        Assert.Equal(tensors.Sum(t => t.Data.Length), sharded.TotalSize);
        foreach (var (d, data) in tensors)
        {
            var a = single.GetTensor(d.Name);
            var b = sharded.GetTensor(d.Name);
            Assert.Equal(a.DType, b.DType);
            Assert.Equal(a.Shape.ToArray(), b.Shape.ToArray());
            Assert.Equal(data, single.ReadBytes(d.Name));
            Assert.Equal(data, sharded.ReadBytes(d.Name));
        }
    }

    [Fact]
    public void IndexFollowsHuggingFaceLayout()
    {
        using var dir = new TempFolder();
        var tensors = SampleTensors();
        WriteSharded(dir.Path, tensors, 2500);
        using var index = JsonDocument.Parse(File.ReadAllText(dir.File("model.safetensors.index.json")));
        Assert.Equal(tensors.Sum(t => t.Data.Length), index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        var map = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(tensors.Count, map.Count);

        // 2048 + 1024 > 2500, so the embedding is alone in shard 1; no shard exceeds the limit.
        Assert.Equal("model-00001-of-00003.safetensors", map["model.embed_tokens.weight"]);
        using var reader = CheckpointReader.Open(dir.Path);
        foreach (var shard in reader.ShardFiles)
        {
            using var file = SafetensorsFile.Open(Path.Combine(dir.Path, shard));
            Assert.True(file.Tensors.Sum(t => t.ByteLength) <= 2500);
            Assert.Equal("pt", file.Metadata["format"]);
        }
    }

    [Fact]
    public void TensorLargerThanShardLimitGetsItsOwnShard()
    {
        using var dir = new TempFolder();
        var tensors = SampleTensors();
        using var writer = new ShardedCheckpointWriter(dir.Path, tensors.Select(t => t.Declaration), 100);
        Assert.Equal("model-00001-of-00006.safetensors", writer.WeightMap["model.embed_tokens.weight"]);
        Assert.Equal(6, writer.ShardFileNames.Count);
    }

    [Fact]
    public void FailedWriteLeavesNoFilesAndRewriteRemovesStaleShards()
    {
        using var dir = new TempFolder();
        var tensors = SampleTensors();
        using (var writer = new ShardedCheckpointWriter(dir.Path, tensors.Select(t => t.Declaration), 2500))
        {
            writer.WriteTensor(tensors[0].Declaration.Name, tensors[0].Data);
            Assert.Throws<InvalidOperationException>(writer.Complete);
        }

        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));

        WriteSharded(dir.Path, tensors, 2500);
        WriteSharded(dir.Path, tensors, long.MaxValue);
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        WriteSharded(dir.Path, tensors, 2500);
        Assert.Equal(4, Directory.GetFiles(dir.Path).Length);
        Assert.False(File.Exists(dir.File("model.safetensors")));
    }

    [Fact]
    public void ReaderReportsMissingWeightsAndBadIndex()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(dir.Path));
        Assert.Contains("neither 'model.safetensors' nor 'model.safetensors.index.json'", e.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("model.safetensors.index.json"), """{"metadata":{"total_size":4},"weight_map":{"a":"../etc/passwd"}}""");
        e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(dir.Path));
        Assert.Contains("tensor 'a'", e.Message, StringComparison.Ordinal);
        Assert.Contains("plain file name", e.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("model.safetensors.index.json"), """{"weight_map":{"a":"model-00001-of-00002.safetensors"}}""");
        e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(dir.Path));
        Assert.Contains("shard file 'model-00001-of-00002.safetensors' does not exist", e.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("model.safetensors.index.json"), "{not json");
        e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(dir.Path));
        Assert.Contains("model.safetensors.index.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IndexPointingAtWrongShardNamesTensorAndShard()
    {
        using var dir = new TempFolder();
        SafetensorsTestData.Write(dir.File("model-00001-of-00001.safetensors"), [(new TensorDeclaration("a", SafetensorsDType.U8, [1]), [1])]);
        File.WriteAllText(dir.File("model.safetensors.index.json"), """{"weight_map":{"a":"model-00001-of-00001.safetensors","b":"model-00001-of-00001.safetensors"}}""");
        using var reader = CheckpointReader.Open(dir.Path);
        Assert.Equal([1], reader.ReadBytes("a"));
        var e = Assert.Throws<CheckpointFormatException>(() => reader.GetTensor("b"));
        Assert.Contains("tensor 'b'", e.Message, StringComparison.Ordinal);
        Assert.Contains("model-00001-of-00001.safetensors", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShardsOpenLazilySoACorruptShardOnlyFailsItsOwnTensors()
    {
        using var dir = new TempFolder();
        var tensors = SampleTensors();
        WriteSharded(dir.Path, tensors, 2500);
        var last = dir.File("model-00003-of-00003.safetensors");
        File.WriteAllBytes(last, File.ReadAllBytes(last)[..^1]);

        using var reader = CheckpointReader.Open(dir.Path);
        Assert.Equal(tensors[0].Data, reader.ReadBytes("model.embed_tokens.weight"));
        var e = Assert.Throws<CheckpointFormatException>(() => reader.GetTensor("model.norm.weight"));
        Assert.Equal(last, e.FilePath);
        Assert.Contains("model-00003-of-00003.safetensors", e.Message, StringComparison.Ordinal);
    }
}
