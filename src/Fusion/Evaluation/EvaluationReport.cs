using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FuseChat.Fusion.Evaluation;

/// <summary>Evaluations of several models side by side, as JSON or Markdown.</summary>
public sealed record EvaluationReport(IReadOnlyList<ModelEvaluation> Models)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The report as indented JSON (snake_case fields).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    public static EvaluationReport FromJson(string json) =>
        JsonSerializer.Deserialize<EvaluationReport>(json, JsonOptions) ?? throw new InvalidDataException("empty evaluation report");

    /// <summary>The report as a Markdown table.</summary>
    public string ToMarkdown()
    {
        var b = new StringBuilder();
        b.AppendLine("| model | perplexity | tokens | exact match | correct |");
        b.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var m in Models)
            b.AppendLine(CultureInfo.InvariantCulture, $"| {m.Model} | {Format(m.Perplexity, "F3")} | {m.PerplexityTokens} | {Format(m.ExactMatch * 100, "F1")}{(m.ExactMatch is null ? "" : "%")} | {m.TaskCorrect}/{m.TaskExamples} |");
        return b.ToString();
    }

    /// <summary>A number for tables, or "-" when absent.</summary>
    public static string Format(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
}
