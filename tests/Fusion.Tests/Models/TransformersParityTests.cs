using System.Runtime.InteropServices;
using System.Text.Json;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Tests.Support;
using FuseChat.Torch;
using Xunit.Abstractions;

namespace FuseChat.Fusion.Tests.Models;

/// <summary>
/// Writes the parity fixtures once per run with Hugging Face transformers (tests/fixtures/parity/make_fixtures.py in
/// the reference python): a tiny random model of each family, saved by transformers, with transformers' logits for
/// fixed ids. Nothing of it is committed.
/// </summary>
public sealed class TransformersParityFixture : IDisposable
{
    private readonly ReferencePython? _python;
    private readonly string? _missing;

    /// <summary>Runs make_fixtures.py, or remembers why it could not.</summary>
    public TransformersParityFixture()
    {
        ReferencePython? python = null;
        try
        {
            python = ReferencePython.Open();
            Log = string.Join('\n', python.Run(Path.Combine("parity", "make_fixtures.py"), python.RootPath("parity")));
            _python = python;
        }
        catch (Xunit.Sdk.XunitException e)
        {
            _missing = e.Message;
            python?.Dispose();
        }
    }

    /// <summary>What make_fixtures.py printed: one line per family with the logits' shape.</summary>
    public string Log { get; } = string.Empty;

    /// <summary>The workspace holding the fixtures, for further reference scripts; fails the test when there is none.</summary>
    public ReferencePython Python
    {
        get
        {
            if (_python is null) Assert.Fail(_missing);
            return _python;
        }
    }

    /// <summary>The folder transformers saved <paramref name="family"/> into, as this process sees it.</summary>
    public string Folder(string family) => Python.HostPath(Path.Combine("parity", family));

    /// <summary>The same folder as the reference scripts see it.</summary>
    public string RootFolder(string family) => Python.RootPath(Path.Combine("parity", family));

    /// <inheritdoc />
    public void Dispose() => _python?.Dispose();
}

/// <summary>
/// Our decoder against transformers itself on the checkpoints transformers wrote: config.json in transformers 5's
/// spelling, its tensor names, and its forward pass (eager attention, float32) on CPU.
/// </summary>
public sealed class TransformersParityTests(TransformersParityFixture fixture, ITestOutputHelper output) : IClassFixture<TransformersParityFixture>
{
    /// <summary>One folder of each family, and Qwen2 with a window from its second layer on (the linear-RoPE Llama is tested by the logits alone).</summary>
    public static TheoryData<string> Families => ["llama", "llama-dynamic", "mistral", "qwen2", "mixtral", "qwen2-sliding", "gemma2", "qwen3", "phi3", "phi3-longrope", "gemma3", "gemma3-vision", "mistral3-vision", "qwen3-moe", "qwen2-moe", "smollm3", "olmo2", "olmo3", "exaone4", "glm4", "ernie4_5"];

    /// <summary>The families and what each exercises; make_fixtures.py writes one folder per name.</summary>
    [Theory]
    [InlineData("llama", ModelArchitecture.Llama)]
    [InlineData("llama-rope-linear", ModelArchitecture.Llama)]
    [InlineData("llama3-rope", ModelArchitecture.Llama)]
    [InlineData("llama-yarn", ModelArchitecture.Llama)]
    [InlineData("llama-dynamic", ModelArchitecture.Llama)]
    [InlineData("llama-variants", ModelArchitecture.Llama)]
    [InlineData("mistral", ModelArchitecture.Mistral)]
    [InlineData("qwen2", ModelArchitecture.Qwen2)]
    [InlineData("mixtral", ModelArchitecture.Mixtral)]
    [InlineData("qwen2-sliding", ModelArchitecture.Qwen2)]
    [InlineData("gemma2", ModelArchitecture.Gemma2)]
    [InlineData("qwen3", ModelArchitecture.Qwen3)]
    [InlineData("phi3", ModelArchitecture.Phi3)]
    [InlineData("phi3-longrope", ModelArchitecture.Phi3)]
    [InlineData("gemma3", ModelArchitecture.Gemma3)]
    [InlineData("gemma3-vision", ModelArchitecture.Gemma3)]
    [InlineData("mistral3-vision", ModelArchitecture.Mistral)]
    [InlineData("qwen3-moe", ModelArchitecture.Qwen3Moe)]
    [InlineData("qwen2-moe", ModelArchitecture.Qwen2Moe)]
    [InlineData("smollm3", ModelArchitecture.SmolLM3)]
    [InlineData("olmo2", ModelArchitecture.Olmo2)]
    [InlineData("olmo3", ModelArchitecture.Olmo3)]
    [InlineData("exaone4", ModelArchitecture.Exaone4)]
    [InlineData("glm4", ModelArchitecture.Glm4)]
    [InlineData("ernie4_5", ModelArchitecture.Ernie45)]
    public void LogitsMatchTransformers(string family, ModelArchitecture architecture)
    {
        var folder = fixture.Folder(family);
        output.WriteLine(fixture.Log);
        using var scope = DisposeScope.Open();
        var (model, config) = PretrainedModel.Load(folder);
        using (model)
        {
            Assert.Equal(architecture, config.Architecture);
            AssertConfigAsWritten(family, config);

            var (input, ids) = InputIds(folder);
            using var noGrad = NoGradScope.Enter();
            var ours = model.Forward(input).ToArray<float>();

            using var file = SafetensorsFile.Open(Path.Combine(folder, "logits.safetensors"));
            var info = file.GetTensor("logits");
            Assert.Equal([ids.Length, ids[0].Length, config.VocabSize], info.Shape.Select(d => (int)d));
            var theirs = MemoryMarshal.Cast<byte, float>(file.GetSpan(info)).ToArray();
            Assert.Equal(theirs.Length, ours.Length);
            var worst = 0.0;
            var at = 0;
            for (var i = 0; i < ours.Length; i++)
            {
                var d = Math.Abs(ours[i] - theirs[i]);
                if (d > worst) (worst, at) = (d, i);
            }

            output.WriteLine($"{family}: {ours.Length} logits, max |ours - transformers| = {worst:E2} at {at}");
            Assert.True(worst <= 1e-4, $"{family}: logit {at} differs by {worst} (ours {ours[at]}, transformers {theirs[at]})");
        }
    }

    /// <summary>
    /// The same forward pass with bf16 weights and activations on CPU: our rounding error against the float32 logits
    /// must be of the size of transformers' own in bf16, and the two bf16 results close to each other.
    /// </summary>
    [Theory]
    [MemberData(nameof(Families))]
    public void Bf16LogitsErrLikeTransformersBf16(string family)
    {
        var folder = fixture.Folder(family);
        using var scope = DisposeScope.Open();
        var (model, _) = PretrainedModel.Load(folder, DType.BFloat16);
        using (model)
        using (var file = SafetensorsFile.Open(Path.Combine(folder, "logits.safetensors")))
        {
            using var noGrad = NoGradScope.Enter();
            var ours = model.Forward(InputIds(folder).Tensor).To(DType.Float32).ToArray<float>();
            var exact = MemoryMarshal.Cast<byte, float>(file.GetSpan("logits")).ToArray();
            var theirs = MemoryMarshal.Cast<byte, float>(file.GetSpan("logits_bf16")).ToArray();
            static (double Mean, double Max) Error(float[] a, float[] b)
            {
                var d = a.Zip(b, (x, y) => (double)Math.Abs(x - y)).ToList();
                return (d.Average(), d.Max());
            }

            var (ourMean, ourMax) = Error(ours, exact);
            var (theirMean, theirMax) = Error(theirs, exact);
            var (betweenMean, betweenMax) = Error(ours, theirs);
            output.WriteLine($"{family}: error to float32 mean/max ours {ourMean:E2}/{ourMax:E2}, transformers {theirMean:E2}/{theirMax:E2}; ours vs transformers {betweenMean:E2}/{betweenMax:E2}");
            Assert.True(theirMean > 0, "transformers' bf16 logits equal its float32 ones: the fixture is not bf16");
            Assert.True(ourMean <= 1.5 * theirMean, $"{family}: our bf16 mean error {ourMean} against transformers' {theirMean}");
            Assert.True(ourMax <= 2 * theirMax, $"{family}: our bf16 largest error {ourMax} against transformers' {theirMax}");
        }
    }

    /// <summary>
    /// Greedy decoding through our key/value cache against transformers' generate: 24 new tokens after a 6-token
    /// prompt, which takes Mistral past its sliding window of 8.
    /// </summary>
    [Theory]
    [MemberData(nameof(Families))]
    public void GreedyDecodingMatchesTransformersGenerate(string family)
    {
        var folder = fixture.Folder(family);
        using var scope = DisposeScope.Open();
        var (model, _) = PretrainedModel.Load(folder);
        using (model)
        {
            using var greedy = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "greedy.json")));
            var prompt = greedy.RootElement.GetProperty("prompt").EnumerateArray().Select(e => e.GetInt32()).ToList();
            var expected = greedy.RootElement.GetProperty("greedy").EnumerateArray().Select(e => e.GetInt32()).ToList();
            var ours = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = expected.Count, Temperature = 0 });
            output.WriteLine($"{family}: transformers {string.Join(' ', expected)}");
            output.WriteLine($"{family}: ours         {string.Join(' ', ours)}");
            Assert.Equal(24, expected.Count);
            Assert.Equal(expected, ours);
        }
    }

    /// <summary>The ids make_fixtures.py ran through transformers, as a tensor [2, 20] and as rows.</summary>
    private static (Tensor Tensor, long[][] Rows) InputIds(string folder)
    {
        var rows = JsonSerializer.Deserialize<long[][]>(File.ReadAllText(Path.Combine(folder, "input_ids.json")))!;
        return (Tensor.From<long>([.. rows.SelectMany(row => row)], [rows.Length, rows[0].Length]), rows);
    }

    /// <summary>The settings make_fixtures.py gave each family, as we read them back from transformers' files.</summary>
    private static void AssertConfigAsWritten(string family, ModelConfig config)
    {
        switch (family)
        {
            case "llama":
                Assert.Equal(10000.0, config.RopeTheta);
                Assert.Null(config.RopeScaling);
                break;
            case "llama-rope-linear":
                Assert.Equal(new RopeScaling("linear", 2.0), config.RopeScaling);
                break;
            case "llama3-rope":
                Assert.Equal(new RopeScaling("llama3", 8.0) { LowFreqFactor = 1.0, HighFreqFactor = 4.0, OriginalMaxPositionEmbeddings = 64 }, config.RopeScaling);
                break;
            case "llama-yarn":
                Assert.Equal(new RopeScaling("yarn", 4.0) { OriginalMaxPositionEmbeddings = 64, Mscale = 1.0, MscaleAllDim = 0.5 }, config.RopeScaling);
                Assert.Equal((0.1 * Math.Log(4) + 1) / (0.05 * Math.Log(4) + 1), config.RopeScaling!.AttentionScaling, 12);
                break;
            case "llama-dynamic":
                Assert.Equal((new RopeScaling("dynamic", 2.0), 12), (config.RopeScaling, config.MaxPositionEmbeddings));
                break;
            case "llama-variants":
                Assert.Equal((true, true, true, 16), (config.AttentionBias, config.MlpBias, config.TieWordEmbeddings, config.HeadDim));
                break;
            case "mistral":
                Assert.Equal(8, config.EffectiveSlidingWindow);
                break;
            case "qwen2":
                Assert.Equal(1e6, config.RopeTheta);
                Assert.True(config.TieWordEmbeddings);
                Assert.True(config.AttentionBias);
                break;
            case "qwen2-sliding":
                Assert.Equal((8, 1), (config.EffectiveSlidingWindow, config.FirstSlidingLayer));
                break;
            case "mixtral":
                Assert.Equal(((int?)4, (int?)2), (config.NumLocalExperts, config.NumExpertsPerTok));
                break;
            case "gemma2":
                Assert.Equal("gelu_pytorch_tanh", config.HiddenAct);
                Assert.Equal([true, false], config.SlidingLayers.ToArray());
                Assert.Equal((8, 12, 0.05, 0.3), (config.EffectiveSlidingWindow, config.QueryPreAttnScalar, config.AttnLogitSoftcapping, config.FinalLogitSoftcapping));
                Assert.Equal((true, 16), (config.TieWordEmbeddings, config.HeadDim));
                break;
            case "qwen3":
                Assert.Equal((1e6, true, false, 16), (config.RopeTheta, config.TieWordEmbeddings, config.AttentionBias, config.HeadDim));
                Assert.Null(config.EffectiveSlidingWindow);
                break;
            case "phi3":
                // transformers 5 writes the factor inside rope_parameters.
                Assert.Equal((0.5, 8, 0), (config.PartialRotaryFactor, config.EffectiveSlidingWindow, config.PadTokenId));
                Assert.Equal(4, DecoderConfig.From(config).EffectiveRotaryDim);
                break;
            case "gemma3":
                Assert.Equal([true, false], config.SlidingLayers.ToArray());
                Assert.Equal((10000.0, (double?)100.0, new RopeScaling("linear", 2.0)), (config.RopeTheta, config.LocalRopeTheta, config.RopeScaling));
                Assert.Equal((8, 12, (double?)null, 16), (config.EffectiveSlidingWindow, config.QueryPreAttnScalar, config.FinalLogitSoftcapping, config.HeadDim));
                break;
            case "gemma3-vision":
                // The language model of transformers' Gemma3ForConditionalGeneration, read from its text_config.
                Assert.Equal(("Gemma3ForCausalLM", 97, 16), (config.ArchitectureName, config.VocabSize, config.HeadDim));
                Assert.Equal([true, false], config.SlidingLayers.ToArray());
                break;
            case "mistral3-vision":
                // The language model of transformers' Mistral3ForConditionalGeneration, read from its text_config.
                Assert.Equal(("MistralForCausalLM", 97, 16, 1e6), (config.ArchitectureName, config.VocabSize, config.HeadDim, config.RopeTheta));
                Assert.Equal((false, (int?)null), (config.TieWordEmbeddings, config.EffectiveSlidingWindow));
                break;
            case "olmo2":
                Assert.Equal((500000.0, false, 1e-5), (config.RopeTheta, config.TieWordEmbeddings, config.RmsNormEps));
                Assert.True(DecoderConfig.From(config).OutputNormsOnly);
                break;
            case "olmo3":
                Assert.Equal([true, false], config.SlidingLayers.ToArray());
                Assert.Equal(8, config.EffectiveSlidingWindow);
                Assert.True(DecoderConfig.From(config).OutputNormsOnly);
                break;
            case "exaone4":
                Assert.Equal([true, false], config.SlidingLayers.ToArray());
                Assert.Equal([true, false], config.RotaryLayers.ToArray());
                var exaone = DecoderConfig.From(config);
                Assert.Equal((true, true, false), (exaone.OutputNormsOnly, exaone.QueryKeyNorm, exaone.NormScaleInFloat32));
                break;
            case "glm4":
                var glm = DecoderConfig.From(config);
                Assert.Equal((0.5, 8, true, true, true), (config.PartialRotaryFactor, glm.EffectiveRotaryDim, glm.InterleavedRotary, glm.GlmNorms, glm.FusedGateUp));
                Assert.Equal((true, false), (config.AttentionBias, config.AttentionOutputBias));
                break;
            case "ernie4_5":
                var ernie = DecoderConfig.From(config);
                Assert.Equal((true, true, true, true), (ernie.InterleavedRotary, ernie.RotaryInFloat32, ernie.MlpBias, ernie.AttentionOutputBias));
                Assert.Equal((8, true), (ernie.EffectiveRotaryDim, config.TieWordEmbeddings));
                break;
            case "smollm3":
                // transformers 5 writes the flags it derived from no_rope_layer_interval.
                Assert.Equal([true, false], config.RotaryLayers.ToArray());
                Assert.Equal((50000.0, true, (int?)0), (config.RopeTheta, config.TieWordEmbeddings, config.PadTokenId));
                break;
            case "qwen3-moe":
                // transformers 5 writes the expert count as num_local_experts; layer 0 is dense by mlp_only_layers.
                Assert.Equal(((int?)4, (int?)2, (int?)24, (bool?)true), (config.NumLocalExperts, config.NumExpertsPerTok, config.MoeIntermediateSize, config.NormTopkProb));
                Assert.Equal([false, true], config.SparseLayers.ToArray());
                Assert.Equal((16, false, (int?)null), (config.HeadDim, config.AttentionBias, config.EffectiveSlidingWindow));
                break;
            case "qwen2-moe":
                // transformers 5 writes sliding_window 0 for "no window".
                Assert.Equal(((int?)4, (int?)3, (int?)40, (bool?)false), (config.NumLocalExperts, config.NumExpertsPerTok, config.SharedExpertIntermediateSize, config.NormTopkProb));
                Assert.Equal([true, true], config.SparseLayers.ToArray());
                Assert.Equal((true, false, (int?)null), (config.AttentionBias, config.AttentionOutputBias, config.EffectiveSlidingWindow));
                break;
            case "phi3-longrope":
                Assert.Equal(6, DecoderConfig.From(config).EffectiveRotaryDim);
                Assert.Equal(("longrope", 12, 64.0 / 12), (config.RopeScaling!.Type, config.RopeScaling.OriginalMaxPositionEmbeddings!.Value, config.RopeScaling.Factor));
                Assert.Equal([1.0, 1.3, 2.1], config.RopeScaling.ShortFactor!);
                Assert.Equal([1.5, 4.0, 9.0], config.RopeScaling.LongFactor!);
                break;
        }
    }
}
