namespace CnnService.Cli;

/// <summary>A plain-text table: columns padded to their widest cell, numeric columns right-aligned.</summary>
internal sealed class TextTable(params (string Header, bool RightAlign)[] columns)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells)
    {
        if (cells.Length != columns.Length) throw new ArgumentException($"Expected {columns.Length} cells, got {cells.Length}.", nameof(cells));
        _rows.Add(cells);
    }

    public void Write(TextWriter writer)
    {
        var widths = new int[columns.Length];
        for (int c = 0; c < columns.Length; c++)
            widths[c] = _rows.Select(r => r[c].Length).Append(columns[c].Header.Length).Max();

        WriteRow(writer, columns.Select(c => c.Header).ToArray(), widths);
        WriteRow(writer, widths.Select(w => new string('-', w)).ToArray(), widths);
        foreach (string[] row in _rows) WriteRow(writer, row, widths);
    }

    private void WriteRow(TextWriter writer, string[] cells, int[] widths)
    {
        var line = new System.Text.StringBuilder();
        for (int c = 0; c < cells.Length; c++)
        {
            if (c > 0) line.Append("  ");
            line.Append(columns[c].RightAlign ? cells[c].PadLeft(widths[c]) : cells[c].PadRight(widths[c]));
        }

        writer.WriteLine(line.ToString().TrimEnd());
    }
}
