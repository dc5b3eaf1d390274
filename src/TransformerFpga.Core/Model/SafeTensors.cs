using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Model;

/// <summary>A float32 tensor: row-major data and its shape.</summary>
public sealed record Tensor(int[] Shape, float[] Data, string Dtype = "F32")
{
    public int Rows => Shape.Length > 0 ? Shape[0] : 1;
    public int Columns => Shape.Length > 1 ? Shape[1] : 1;
    public string ShapeText => "[" + string.Join(", ", Shape.Select(s => s.ToString(CultureInfo.InvariantCulture))) + "]";
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// mapping names to dtype, shape and data offsets, then the raw little-endian data.
/// Only float32 tensors are accepted; every offset and size is validated against the file.
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers beyond this size are rejected before allocating (real headers are a few KB).</summary>
    public const long MaxHeaderBytes = 16 * 1024 * 1024;

    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path))
            throw new FpgaException(ErrorCodes.WeightsFileMissing, path, "weights file not found; check the \"weights\" path in the model JSON (relative to the JSON file)");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new FpgaException(ErrorCodes.WeightsFileMissing, path, "cannot read weights file: " + e.Message); }
        return Parse(bytes, path);
    }

    public static Dictionary<string, Tensor> Parse(byte[] bytes, string path)
    {
        FpgaException Bad(string why) => new(ErrorCodes.SafeTensorsMalformed, path, "malformed safetensors file: " + why + "; re-export it with safetensors.torch.save_file");
        if (bytes.Length < 8) throw Bad($"the file has {bytes.Length} bytes, fewer than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes) throw Bad($"header length {headerLength} exceeds {MaxHeaderBytes} bytes");
        if ((long)headerLength > bytes.Length - 8) throw Bad($"header length {headerLength} runs past the end of the {bytes.Length}-byte file");
        long dataStart = 8 + (long)headerLength;
        long dataLength = bytes.Length - dataStart;
        JsonDocument doc;
        try
        {
            string header = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 8, (int)headerLength);
            doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (DecoderFallbackException) { throw Bad("header is not valid UTF-8"); }
        catch (JsonException e) { throw Bad("header is not valid JSON (" + e.Message + ")"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad("header is not a JSON object");
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var ranges = new List<(long Begin, long End, string Name)>();
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                var t = entry.Value;
                if (t.ValueKind != JsonValueKind.Object) throw Bad($"entry '{entry.Name}' is not an object");
                if (!t.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String)
                    throw Bad($"tensor '{entry.Name}' has no dtype");
                string dtype = dtypeEl.GetString()!;
                int elementBytes = dtype switch
                {
                    "F64" or "I64" or "U64" => 8,
                    "F32" or "I32" or "U32" => 4,
                    "F16" or "BF16" or "I16" or "U16" => 2,
                    "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
                    _ => throw Bad($"tensor '{entry.Name}' has unknown dtype '{dtype}'"),
                };
                if (!t.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array)
                    throw Bad($"tensor '{entry.Name}' has no shape");
                var shape = new List<int>();
                long count = 1;
                foreach (var s in shapeEl.EnumerateArray())
                {
                    if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out long dim) || dim < 0 || dim > int.MaxValue)
                        throw Bad($"tensor '{entry.Name}' has an invalid dimension");
                    shape.Add((int)dim);
                    count = checked(count * Math.Max(dim, 1));
                    if (count > dataLength) count = dataLength + 1; // keep it bounded; the offset check below reports it
                    if (dim == 0) count = 0;
                }
                if (shape.Count > 4) throw Bad($"tensor '{entry.Name}' has {shape.Count} dimensions");
                if (!t.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
                    throw Bad($"tensor '{entry.Name}' has no data_offsets [begin, end]");
                if (!offEl[0].TryGetInt64(out long begin) || !offEl[1].TryGetInt64(out long end))
                    throw Bad($"tensor '{entry.Name}' has non-integer data_offsets");
                if (begin < 0 || end < begin || end > dataLength)
                    throw Bad($"tensor '{entry.Name}' data_offsets [{begin}, {end}] lie outside the {dataLength} data bytes");
                if (end - begin != count * elementBytes)
                    throw Bad($"tensor '{entry.Name}' has shape [{string.Join(", ", shape)}] ({count} {dtype} values) but {end - begin} data bytes");
                ranges.Add((begin, end, entry.Name));
                // Only float32 is decoded; other dtypes (e.g. BatchNorm's I64 num_batches_tracked) are
                // kept by name so that a model that needs them gets a clear dtype error.
                var data = dtype == "F32" ? new float[count] : Array.Empty<float>();
                for (long i = 0; i < data.Length; i++)
                    data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(dataStart + begin + 4 * i), 4));
                if (!result.TryAdd(entry.Name, new Tensor(shape.ToArray(), data, dtype))) throw Bad($"tensor '{entry.Name}' appears twice");
            }
            ranges.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            for (int i = 1; i < ranges.Count; i++)
                if (ranges[i].Begin < ranges[i - 1].End)
                    throw Bad($"tensors '{ranges[i - 1].Name}' and '{ranges[i].Name}' overlap");
            return result;
        }
    }

    /// <summary>Writes float32 tensors in name order, header padded to 8 bytes (deterministic bytes).</summary>
    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();
        var header = new StringBuilder("{");
        long offset = 0;
        for (int i = 0; i < names.Count; i++)
        {
            var t = tensors[names[i]];
            long size = 4L * t.Data.Length;
            if (i > 0) header.Append(',');
            header.Append(JsonSerializer.Serialize(names[i], ModelJsonContext.Default.String));
            header.Append(":{\"dtype\":\"F32\",\"shape\":[")
                  .Append(string.Join(",", t.Shape.Select(s => s.ToString(CultureInfo.InvariantCulture))))
                  .Append("],\"data_offsets\":[")
                  .Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',')
                  .Append((offset + size).ToString(CultureInfo.InvariantCulture)).Append("]}");
            offset += size;
        }
        header.Append('}');
        while ((header.Length + 8) % 8 != 0) header.Append(' ');
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        var output = new byte[8 + headerBytes.Length + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(output, (ulong)headerBytes.Length);
        headerBytes.CopyTo(output, 8);
        long pos = 8 + headerBytes.Length;
        foreach (var name in names)
            foreach (float v in tensors[name].Data)
            {
                BinaryPrimitives.WriteSingleLittleEndian(output.AsSpan((int)pos, 4), v);
                pos += 4;
            }
        return output;
    }
}
