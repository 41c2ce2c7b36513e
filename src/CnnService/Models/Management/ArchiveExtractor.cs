using System.Formats.Tar;
using System.IO.Compression;

namespace CnnService.Models.Management;

/// <summary>
/// Unpacks a version folder's .tar.gz or .zip into the staging folder through <see cref="VersionFolderWriter"/>.
/// Only plain files and folders are taken: links (symbolic or hard), devices and FIFOs are refused, as are the
/// paths <see cref="ArchiveLayout"/> refuses. A damaged archive is refused with what the reader said.
/// </summary>
internal static class ArchiveExtractor
{
    public static async Task ExtractTarGzAsync(Stream archive, VersionFolderWriter writer, CancellationToken cancellationToken)
    {
        var layout = new ArchiveLayout();
        try
        {
            await using var gzip = new GZipStream(archive, CompressionMode.Decompress, leaveOpen: true);
            await using var tar = new TarReader(gzip, leaveOpen: true);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is TarEntry entry)
            {
                writer.CountEntry();
                ArchiveLayout.Segments(entry.Name); // the path first, whatever the entry is
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        layout.Folder(entry.Name);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                        await writer.WriteAsync(layout.File(entry.Name), entry.DataStream ?? Stream.Null, entry.Name, cancellationToken);
                        break;
                    case TarEntryType.GlobalExtendedAttributes:
                        break; // metadata (git archive writes one), no file
                    case TarEntryType.SymbolicLink or TarEntryType.HardLink:
                        throw new UploadRefusedException($"Archive entry \"{entry.Name}\" is a link (to \"{entry.LinkName}\"); an upload holds plain files only.");
                    case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                        throw new UploadRefusedException($"Archive entry \"{entry.Name}\" is a device file or FIFO; an upload holds plain files only.");
                    default:
                        throw new UploadRefusedException($"Archive entry \"{entry.Name}\" is a {entry.EntryType} entry; an upload holds plain files and folders only.");
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or ArgumentException)
        {
            throw new UploadRefusedException($"The .tar.gz cannot be read: {e.Message}");
        }
    }

    // Unix file types in the high 16 bits of a zip entry's external attributes (0 when the zip was made elsewhere).
    private const int TypeMask = 0xF000, RegularFile = 0x8000, Folder = 0x4000, SymbolicLink = 0xA000;

    /// <summary>A zip needs a seekable stream (its directory is at the end): the upload is first spooled to a file.</summary>
    public static async Task ExtractZipAsync(Stream archive, VersionFolderWriter writer, CancellationToken cancellationToken)
    {
        var layout = new ArchiveLayout();
        try
        {
            using var zip = new ZipArchive(archive, ZipArchiveMode.Read, leaveOpen: true);
            foreach (ZipArchiveEntry entry in zip.Entries)
            {
                writer.CountEntry();
                ArchiveLayout.Segments(entry.FullName);
                int type = (entry.ExternalAttributes >> 16) & TypeMask;
                if (type == SymbolicLink)
                    throw new UploadRefusedException($"Archive entry \"{entry.FullName}\" is a symbolic link; an upload holds plain files only.");
                bool folder = entry.FullName.EndsWith('/') || entry.FullName.EndsWith('\\') || type == Folder;
                if (folder)
                {
                    layout.Folder(entry.FullName);
                    continue;
                }

                if (type is not (0 or RegularFile))
                    throw new UploadRefusedException($"Archive entry \"{entry.FullName}\" is not a plain file; an upload holds plain files only.");
                string name = layout.File(entry.FullName);
                await using Stream data = entry.Open();
                await writer.WriteAsync(name, data, entry.FullName, cancellationToken);
            }
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new UploadRefusedException($"The .zip cannot be read: {e.Message}");
        }
    }
}
