using System.Text;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Reports;

/// <summary>
/// Collects output files in memory, then puts them in place folder by folder: each file is written
/// to a temporary name beside its target and renamed over it (atomic on one file system); files
/// whose bytes are unchanged are not touched, so timestamps survive a rebuild with the same result;
/// files no longer produced are removed from the folders that were replaced.
/// </summary>
public sealed class OutputWriter
{
    private readonly SortedDictionary<string, byte[]> _files = new(StringComparer.Ordinal);

    public void Add(string relativePath, string text) => _files[relativePath.Replace('\\', '/')] = Encoding.UTF8.GetBytes(text.Replace("\r\n", "\n"));

    public void Add(string relativePath, byte[] bytes) => _files[relativePath.Replace('\\', '/')] = bytes;

    /// <summary>The relative paths ('/'-separated) of every file added, in ordinal order.</summary>
    public IReadOnlyCollection<string> Paths => _files.Keys;

    /// <summary>The text of a file added earlier (for steps that read what the generator wrote).</summary>
    public string Text(string relativePath) => Encoding.UTF8.GetString(_files[relativePath.Replace('\\', '/')]);

    /// <summary>Writes the files whose first path segment is one of <paramref name="folders"/>.</summary>
    public void Commit(string outputDirectory, params string[] folders) => Guarded(outputDirectory, pending =>
    {
        foreach (string folder in folders)
        {
            string root = Path.Combine(outputDirectory, folder);
            var wanted = _files.Where(f => f.Key.StartsWith(folder + "/", StringComparison.Ordinal)).ToList();
            Stage(outputDirectory, wanted, pending);
            if (Directory.Exists(root))
            {
                var keep = new HashSet<string>(wanted.Select(f => Path.GetFullPath(Path.Combine(outputDirectory, f.Key))), StringComparer.Ordinal);
                foreach (string file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
                    if (!keep.Contains(Path.GetFullPath(file)) && !IsTestbenchOutput(file) && !IsExploreOutput(outputDirectory, file))
                        File.Delete(file);
            }
        }
    });

    /// <summary>Writes one file outside the output folders via a temporary file and a rename; untouched when its bytes are the same.</summary>
    /// <returns>Whether the file was written.</returns>
    public static bool WriteIfChanged(string path, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (IsUnchanged(path, bytes))
            return false;
        string temporary = TemporaryOf(path);
        try
        {
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
        return true;
    }

    /// <summary>
    /// Writes every file added and deletes nothing: for FpgaExplore, whose report files sit beside the build's
    /// in report/ and must leave them alone. All files are staged before the first is renamed into place.
    /// </summary>
    public void CommitFiles(string outputDirectory) => Guarded(outputDirectory, pending => Stage(outputDirectory, _files, pending));

    /// <summary>Writes the changed files to temporary names beside their targets, then renames them all into place.</summary>
    private static void Stage(string outputDirectory, IEnumerable<KeyValuePair<string, byte[]>> files, List<string> pending)
    {
        var staged = new List<(string Temporary, string Target)>();
        foreach (var (relative, bytes) in files)
        {
            string target = Path.Combine(outputDirectory, relative);
            if (IsUnchanged(target, bytes))
                continue;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            string temporary = TemporaryOf(target);
            pending.Add(temporary);
            File.WriteAllBytes(temporary, bytes);
            staged.Add((temporary, target));
        }
        foreach (var (temporary, target) in staged) File.Move(temporary, target, overwrite: true);
    }

    /// <summary>Runs <paramref name="write"/>; on an I/O failure removes its temporary files and reports TFPGA030.</summary>
    private static void Guarded(string outputDirectory, Action<List<string>> write)
    {
        var pending = new List<string>();
        try
        {
            write(pending);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (string temporary in pending)
                try { File.Delete(temporary); } catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException) { }
            throw new FpgaException(ErrorCodes.OutputWriteFailed, outputDirectory, "cannot write outputs: " + e.Message + "; check FpgaOutputDir and that no other program holds the files");
        }
    }

    private static bool IsUnchanged(string path, byte[] bytes) =>
        File.Exists(path) && new FileInfo(path).Length == bytes.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes);

    private static string TemporaryOf(string path) => path + ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>report/explore.* belong to FpgaExplore: a build keeps them (the exploration is a separate, slower step).</summary>
    private static bool IsExploreOutput(string outputDirectory, string file) =>
        Path.GetFileName(file).StartsWith("explore.", StringComparison.Ordinal)
        && string.Equals(Path.GetFullPath(Path.GetDirectoryName(file)!), Path.GetFullPath(Path.Combine(outputDirectory, "report")), StringComparison.Ordinal);

    /// <summary>
    /// Files the tools write into the output folders (the GHDL testbench's results and work library,
    /// Yosys's log and work folder); they belong to the user's last run and are never deleted.
    /// </summary>
    private static bool IsTestbenchOutput(string file)
    {
        string name = Path.GetFileName(file);
        if (name.EndsWith(".log", StringComparison.Ordinal)) return true;
        string? parent = Path.GetFileName(Path.GetDirectoryName(file));
        if (parent is "work") return true;
        return name.EndsWith("_out.txt", StringComparison.Ordinal) || name.EndsWith("_cycles.txt", StringComparison.Ordinal)
            || name.EndsWith(".cf", StringComparison.Ordinal) || name.EndsWith(".o", StringComparison.Ordinal);
    }
}
