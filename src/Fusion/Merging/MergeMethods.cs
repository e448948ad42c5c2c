namespace FuseChat.Fusion.Merging;

/// <summary>The merge methods by recipe name.</summary>
public static class MergeMethods
{
    /// <summary>SCE, the FuseChat paper's method.</summary>
    public const string Sce = "sce";
    /// <summary>VaRM, the first FuseChat version's method (recipes may also say "fusechat_varm").</summary>
    public const string Varm = "varm";
    /// <summary>Weighted average.</summary>
    public const string Linear = "linear";
    /// <summary>Task arithmetic.</summary>
    public const string TaskArithmetic = "task_arithmetic";
    /// <summary>TIES.</summary>
    public const string Ties = "ties";
    /// <summary>DARE with a plain weighted sum.</summary>
    public const string DareLinear = "dare_linear";
    /// <summary>DARE with TIES sign consensus.</summary>
    public const string DareTies = "dare_ties";

    /// <summary>The canonical names, in the order they are listed in messages.</summary>
    public static IReadOnlyList<string> Names { get; } = [Sce, Varm, Linear, TaskArithmetic, Ties, DareLinear, DareTies];

    /// <summary>The canonical name for a recipe's merge_method (case and surrounding space ignored), or null when unknown.</summary>
    public static string? Canonical(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var n = name.Trim().ToLowerInvariant();
        if (n == "fusechat_varm") return Varm;
        return Names.Contains(n) ? n : null;
    }

    /// <summary>True for methods that work on deltas from a base model, so the recipe needs base_model (all but linear).</summary>
    public static bool NeedsBaseModel(string canonicalName) => canonicalName != Linear;

    /// <summary>The method a validated recipe asks for.</summary>
    public static IMergeMethod Create(MergeRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        return Create(recipe.MergeMethod, recipe.SceVariant);
    }

    /// <summary>The method of the given name; <paramref name="sceVariant"/> applies to SCE only.</summary>
    public static IMergeMethod Create(string name, SceVariant sceVariant = SceVariant.Paper) => Canonical(name) switch
    {
        Sce => new SceMerge(sceVariant),
        Varm => new VarmMerge(),
        Linear => new LinearMerge(),
        TaskArithmetic => new TaskArithmeticMerge(),
        Ties => new TiesMerge(),
        DareLinear => new DareMerge(signConsensus: false),
        DareTies => new DareMerge(signConsensus: true),
        _ => throw new ArgumentException($"unknown merge method '{name}' (known: {string.Join(", ", Names)}, fusechat_varm)", nameof(name)),
    };
}
