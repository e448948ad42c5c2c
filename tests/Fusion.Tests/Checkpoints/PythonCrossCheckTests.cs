using System.Diagnostics;
using System.Runtime.InteropServices;
using FuseChat.Fusion.Checkpoints;
using Xunit.Abstractions;

namespace FuseChat.Fusion.Tests.Checkpoints;

/// <summary>
/// Checks compatibility with files made by Python code (PyTorch for bf16 rounding), writing the
/// format by hand with struct + json as the safetensors package does. Needs Debian's python3 with
/// numpy and torch (scripts/ensure-deps.sh installs python3-torch); fails with that hint otherwise.
/// </summary>
public class PythonCrossCheckTests(ITestOutputHelper output)
{
    private const string Python = "/usr/bin/python3";

    private const string WriterScript = """
        import json, struct, sys
        import numpy as np, torch
        path = sys.argv[1]
        rng = np.random.default_rng(7)
        x = rng.standard_normal(1000).astype(np.float32) * np.float32(100)
        ties = np.array([1 + 2**-8, 1 + 3 * 2**-8, -(1 + 2**-8), 3.4028235e38, np.inf, -np.inf, np.nan, 0.0, -0.0], dtype=np.float32)
        x = np.concatenate([x, ties])
        bf16 = torch.from_numpy(x.copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
        tensors = {
            "x": ("F32", [x.size], x.tobytes()),
            "x_bf16": ("BF16", [x.size], bf16.tobytes()),
            "h": ("F16", [2, 3], np.arange(6, dtype=np.float16).tobytes()),
            "ids": ("I64", [4], np.array([1, -2, 3, 2**40], dtype=np.int64).tobytes()),
            "mask": ("BOOL", [3], np.array([True, False, True]).tobytes()),
        }
        header, data, offset = {"__metadata__": {"format": "pt"}}, b"", 0
        for name in ["mask", "x", "h", "ids", "x_bf16"]:
            dtype, shape, raw = tensors[name]
            header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
            data += raw
            offset += len(raw)
        h = json.dumps(header).encode()
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h + data)
        """;

    private const string ReaderScript = """
        import json, struct, sys
        import numpy as np
        path = sys.argv[1]
        b = open(path, "rb").read()
        n = struct.unpack("<Q", b[:8])[0]
        assert n % 8 == 0, n
        text = b[8:8 + n].decode()
        assert text.rstrip(" ") == text.rstrip(), "padding must be spaces"
        header = json.loads(text)
        assert header["__metadata__"] == {"format": "pt"}, header["__metadata__"]
        data = b[8 + n:]
        ends = sorted(v["data_offsets"] for k, v in header.items() if k != "__metadata__")
        assert ends[0][0] == 0 and all(a[1] == c[0] for a, c in zip(ends, ends[1:])) and ends[-1][1] == len(data), ends
        def get(name, dt):
            e = header[name]
            s, t = e["data_offsets"]
            return np.frombuffer(data[s:t], dtype=dt).reshape(e["shape"])
        assert header["a"]["dtype"] == "F32" and header["a"]["shape"] == [2, 3]
        assert (get("a", np.float32) == np.arange(6, dtype=np.float32).reshape(2, 3)).all()
        assert (get("b", np.int32) == np.array([-1, 7], dtype=np.int32)).all()
        bf = get("c", np.uint16).astype(np.uint32) << 16
        assert (bf.view(np.float32) == np.array([1.5, -2.0, 0.1875], dtype=np.float32)).all()
        print("OK")
        """;

    [Fact]
    public void ReadsFileWrittenByPythonAndMatchesTorchBf16Rounding()
    {
        using var dir = new TempFolder();
        var path = dir.File("py.safetensors");
        RunPython(WriterScript, path);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(["mask", "x", "h", "ids", "x_bf16"], file.Tensors.Select(t => t.Name));
        Assert.Equal([1L, -2L, 3L, 1L << 40], MemoryMarshal.Cast<byte, long>(file.GetSpan("ids")).ToArray());
        Assert.Equal(new byte[] { 1, 0, 1 }, file.ReadBytes("mask"));
        var h = new float[6];
        NumericConversion.ToSingle(file.GetSpan("h"), SafetensorsDType.F16, h);
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f], h);
        Assert.Equal("[2, 3]", file.GetTensor("h").FormatShape());

        var x = MemoryMarshal.Cast<byte, float>(file.GetSpan("x")).ToArray();
        var ours = new ushort[x.Length];
        NumericConversion.SingleToBFloat16(x, ours);
        var torch = MemoryMarshal.Cast<byte, ushort>(file.GetSpan("x_bf16")).ToArray();

        // PyTorch's vectorised CPU path writes NaN as 0xFFFF and its scalar path as 0x7FC0; any
        // NaN is acceptable there, every other value must match bit for bit.
        static bool IsNaN(ushort b) => (b & 0x7F80) == 0x7F80 && (b & 0x007F) != 0;
        for (var i = 0; i < x.Length; i++)
        {
            if (float.IsNaN(x[i]))
            {
                Assert.True(IsNaN(torch[i]) && IsNaN(ours[i]));
            }
            else
            {
                Assert.True(torch[i] == ours[i], $"x[{i}] = {x[i]:R}: torch {torch[i]:X4}, ours {ours[i]:X4}");
            }
        }
    }

    [Fact]
    public void PythonReadsFileWeWrote()
    {
        using var dir = new TempFolder();
        var path = dir.File("ours.safetensors");
        var bf16 = new byte[6];
        NumericConversion.FromSingle([1.5f, -2f, 0.1875f], SafetensorsDType.BF16, bf16);
        SafetensorsTestData.Write(path, [
            (new TensorDeclaration("a", SafetensorsDType.F32, [2, 3]), MemoryMarshal.AsBytes<float>([0, 1, 2, 3, 4, 5]).ToArray()),
            (new TensorDeclaration("b", SafetensorsDType.I32, [2]), MemoryMarshal.AsBytes<int>([-1, 7]).ToArray()),
            (new TensorDeclaration("c", SafetensorsDType.BF16, [3]), bf16)]);
        RunPython(ReaderScript, path, expect: "OK");
    }

    private void RunPython(string script, string argument, string? expect = null)
    {
        Assert.True(File.Exists(Python), $"{Python} not found: run scripts/ensure-deps.sh (installs python3-torch)");
        var probe = Run("import numpy, torch", null);
        Assert.True(probe.ExitCode == 0, $"numpy/torch unavailable ({probe.Output.Trim()}): run scripts/ensure-deps.sh");
        output.WriteLine("python3 with numpy and torch found");

        var result = Run(script, argument);
        Assert.True(result.ExitCode == 0, $"python failed: {result.Output}");
        if (expect is not null)
        {
            Assert.Contains(expect, result.Output, StringComparison.Ordinal);
        }

    }

    private static (int ExitCode, string Output) Run(string script, string? argument)
    {
        var info = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        if (argument is not null)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }
}
