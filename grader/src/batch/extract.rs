//! Unpacking a submitted archive without trusting it.
//!
//! Only regular files and folders are written, only inside the destination: entries with `..`,
//! absolute paths, links or device files are refused, and so are archives whose unpacked size
//! or file count passes the limits (a "zip bomb"). A refusal is that student's problem, reported
//! in their feedback; the batch goes on.
//!
//! What students zip by accident (build output, version control, macOS and editor files) is
//! skipped before the limits count anything: a solution zipped with its `target/` is fine.
//!
//! A refusal names what went wrong as the student would put it: an empty archive, a truncated
//! upload, a RAR renamed `.zip`, rather than one "not readable" for all of them.

use std::io::{ErrorKind, Read};
use std::path::{Component, Path, PathBuf};

/// How much one submission may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_files: usize,
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_files: 5_000, max_bytes: 64 << 20 }
    }
}

/// Why an archive was not unpacked: a message for the student's feedback.
pub type Refusal = String;

pub fn unzip(archive: &Path, into: &Path, limits: Limits) -> Result<(), Refusal> {
    let file =
        std::fs::File::open(archive).map_err(|err| format!("cannot open the archive: {err}"))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|err| unreadable(archive, "zip", &err))?;
    let mut budget = Budget::new(limits);
    let mut kept = 0;
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).map_err(|err| damaged(&err))?;
        let name = zip_entry_name(&entry)?;
        let relative = safe_path(Path::new(&name))?;
        if is_junk(&relative) {
            continue;
        }
        kept += 1;
        if entry.is_symlink() {
            return Err(link_refusal(&name));
        }
        if entry.is_dir() {
            create_dir(&into.join(relative))?;
        } else {
            budget.add_file(&name)?;
            write_file(&mut entry, &into.join(relative), &mut budget, &name)?;
        }
    }
    something_was_unpacked(zip.len(), kept)
}

/// The paths of the files a zip holds, build output and junk left out, without unpacking it:
/// enough to tell a workbook from a zip of screenshots.
pub fn zip_file_paths(archive: &Path) -> Result<Vec<PathBuf>, Refusal> {
    let file =
        std::fs::File::open(archive).map_err(|err| format!("cannot open the archive: {err}"))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|err| unreadable(archive, "zip", &err))?;
    let mut paths = Vec::new();
    for index in 0..zip.len() {
        let entry = zip.by_index_raw(index).map_err(|err| damaged(&err))?;
        let relative = safe_path(Path::new(&zip_entry_name(&entry)?))?;
        if entry.is_file() && !is_junk(&relative) {
            paths.push(relative);
        }
    }
    Ok(paths)
}

/// The entry's name with `/` between folders. The zip format wants `/`, but Windows
/// PowerShell 5.1's `Compress-Archive` writes `\`, which on Linux would make
/// `exercises\01-redis-setup\src\lib.rs` one file at the top.
fn zip_entry_name<R: Read>(entry: &zip::read::ZipFile<'_, R>) -> Result<String, Refusal> {
    let name = entry.name().map_err(|err| format!("an unreadable entry name: {err}"))?;
    Ok(name.replace('\\', "/"))
}

pub fn untar_gz(archive: &Path, into: &Path, limits: Limits) -> Result<(), Refusal> {
    let file =
        std::fs::File::open(archive).map_err(|err| format!("cannot open the archive: {err}"))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut budget = Budget::new(limits);
    let entries = tar.entries().map_err(|err| unreadable(archive, ".tar.gz", &err))?;
    let (mut seen, mut kept) = (0, 0);
    for entry in entries {
        let mut entry = entry.map_err(|err| unreadable(archive, ".tar.gz", &err))?;
        seen += 1;
        let path =
            entry.path().map_err(|err| format!("an unreadable entry name: {err}"))?.into_owned();
        let name = path.display().to_string();
        let relative = safe_path(&path)?;
        if is_junk(&relative) {
            continue;
        }
        kept += 1;
        match entry.header().entry_type() {
            tar::EntryType::Directory => create_dir(&into.join(relative))?,
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                budget.add_file(&name)?;
                write_file(&mut entry, &into.join(relative), &mut budget, &name)?;
            }
            // pax and GNU headers carry metadata for the next entry, not files.
            tar::EntryType::XHeader
            | tar::EntryType::XGlobalHeader
            | tar::EntryType::GNULongName => {}
            tar::EntryType::Symlink | tar::EntryType::Link => return Err(link_refusal(&name)),
            other => {
                return Err(format!(
                    "{name:?} is a {other:?}; archives may hold only files and folders: {AGAIN}"
                ));
            }
        }
    }
    something_was_unpacked(seen, kept)
}

/// The paths of the files a `.tar.gz` holds, build output and junk left out. Reads the whole
/// archive (a tar has no index), so it is asked only of students who handed in several files.
pub fn tar_gz_file_paths(archive: &Path) -> Result<Vec<PathBuf>, Refusal> {
    let file =
        std::fs::File::open(archive).map_err(|err| format!("cannot open the archive: {err}"))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let entries = tar.entries().map_err(|err| unreadable(archive, ".tar.gz", &err))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| unreadable(archive, ".tar.gz", &err))?;
        let path =
            entry.path().map_err(|err| format!("an unreadable entry name: {err}"))?.into_owned();
        let relative = safe_path(&path)?;
        if entry.header().entry_type().is_file() && !is_junk(&relative) {
            paths.push(relative);
        }
    }
    Ok(paths)
}

/// Refuses an archive that held nothing, or nothing but build output and junk: "no exercises
/// folder" would send the student looking for the wrong mistake.
fn something_was_unpacked(entries: usize, kept: usize) -> Result<(), Refusal> {
    if entries == 0 {
        return Err(format!("the archive is empty: nothing was zipped. {AGAIN_FROM_THE_TOP}"));
    }
    if kept == 0 {
        return Err(format!(
            "the archive holds only build output and system files ({}): {AGAIN_FROM_THE_TOP}",
            JUNK_FOLDERS.join(", ")
        ));
    }
    Ok(())
}

/// An archive that cannot be opened, told apart by its first bytes: a truncated upload, an
/// empty file, a RAR or 7z renamed, or something else.
fn unreadable(archive: &Path, format: &str, err: &dyn std::fmt::Display) -> Refusal {
    let mut start = [0u8; 6];
    let read = std::fs::File::open(archive).and_then(|mut file| file.read(&mut start));
    let start = &start[..read.unwrap_or(0)];
    let zip_or_gzip = start.starts_with(b"PK") || start.starts_with(&[0x1f, 0x8b]);
    if start.is_empty() {
        format!("the archive is empty (0 bytes): the upload failed. {AGAIN_FROM_THE_TOP}")
    } else if zip_or_gzip {
        damaged(err)
    } else if start.starts_with(b"Rar!") || start.starts_with(b"7z\xbc\xaf\x27\x1c") {
        format!(
            "a RAR or 7z archive renamed to {format} ({err}): submit a real .zip or .tar.gz; \
             {AGAIN}"
        )
    } else {
        format!(
            "not a readable {format} file ({err}): submit a .zip or .tar.gz of the workbook \
             folder; {AGAIN}"
        )
    }
}

/// An archive that starts as it should but breaks off or is corrupt inside.
fn damaged(err: &dyn std::fmt::Display) -> Refusal {
    format!(
        "the archive looks truncated or damaged ({err}), as when an upload stops early: check \
         that your zip opens on your own machine, then upload it again"
    )
}

/// What to do about most refusals.
const AGAIN: &str = "zip the workbook folder again (e.g. `zip -r workbook.zip workbook -x \\*/target/\\*`) and resubmit";

/// What to do when nothing of the workbook arrived.
const AGAIN_FROM_THE_TOP: &str = "zip the whole workbook folder, with exercises/ in it (e.g. \
     `zip -r workbook.zip workbook -x \\*/target/\\*`), and submit again";

fn link_refusal(name: &str) -> Refusal {
    format!(
        "{name:?} is a link; archives may hold only files and folders: replace the link by the \
         file it points to, then {AGAIN}"
    )
}

/// Folders that are never part of a submission: build output, version control, dependencies
/// and the copies macOS adds to zips.
const JUNK_FOLDERS: [&str; 6] = ["target", ".git", "__MACOSX", "node_modules", ".idea", ".vscode"];

/// Whether an archive entry is build output or editor and system junk, left out unread.
pub fn is_junk(relative: &Path) -> bool {
    let mut parts = relative.components().filter_map(|component| match component {
        Component::Normal(part) => part.to_str(),
        _ => None,
    });
    let junk_file =
        |name: &str| name == ".DS_Store" || name.ends_with(".swp") || name.ends_with('~');
    let last = relative.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    parts.any(|part| JUNK_FOLDERS.contains(&part)) || junk_file(last)
}

/// The entry's path if it stays inside the destination: no `..`, no root and no Windows drive
/// (`C:/...`, from a zip written with backslashes).
fn safe_path(path: &Path) -> Result<PathBuf, Refusal> {
    let outside =
        || format!("{:?} points outside the submission: {AGAIN}", path.display().to_string());
    let mut safe = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) if safe.as_os_str().is_empty() && is_drive(part) => {
                return Err(outside());
            }
            Component::Normal(part) => safe.push(part),
            Component::CurDir => {}
            _ => return Err(outside()),
        }
    }
    Ok(safe)
}

/// A Windows drive such as `C:`.
fn is_drive(part: &std::ffi::OsStr) -> bool {
    let part = part.as_encoded_bytes();
    part.len() == 2 && part[0].is_ascii_alphabetic() && part[1] == b':'
}

struct Budget {
    limits: Limits,
    files: usize,
    bytes: u64,
}

impl Budget {
    fn new(limits: Limits) -> Self {
        Self { limits, files: 0, bytes: 0 }
    }

    fn add_file(&mut self, name: &str) -> Result<(), Refusal> {
        self.files += 1;
        if self.files > self.limits.max_files {
            return Err(format!(
                "more than {} files (at {name:?}): submit only the workbook's sources; \
                 {AGAIN}",
                self.limits.max_files
            ));
        }
        Ok(())
    }
}

fn create_dir(path: &Path) -> Result<(), Refusal> {
    std::fs::create_dir_all(path).map_err(|err| format!("cannot create {}: {err}", path.display()))
}

/// Copies at most the remaining budget; an entry that would pass it is refused, whatever its
/// header claims about its size.
fn write_file(
    reader: &mut dyn Read,
    path: &Path,
    budget: &mut Budget,
    name: &str,
) -> Result<(), Refusal> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    let mut file = std::fs::File::create(path)
        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    let allowance = budget.limits.max_bytes - budget.bytes;
    let written = std::io::copy(&mut reader.take(allowance + 1), &mut file).map_err(|err| {
        // A stream that breaks off or fails its checksum: the upload, not the grader.
        match err.kind() {
            ErrorKind::UnexpectedEof | ErrorKind::InvalidData => {
                damaged(&format!("at {name:?}: {err}"))
            }
            _ => format!("cannot unpack {name:?}: {err}"),
        }
    })?;
    if written > allowance {
        return Err(format!(
            "the archive unpacks to more than {} MiB (at {name:?}): leave out large files and \
             build output, then {AGAIN}",
            budget.limits.max_bytes >> 20
        ));
    }
    budget.bytes += written;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_with(entries: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut zip = zip::ZipWriter::new(file.reopen().unwrap());
        for (name, content) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(content).unwrap();
        }
        zip.finish().unwrap();
        file
    }

    fn tar_gz_with(
        build: impl FnOnce(&mut tar::Builder<flate2::write::GzEncoder<std::fs::File>>),
    ) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let encoder =
            flate2::write::GzEncoder::new(file.reopen().unwrap(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(encoder);
        build(&mut tar);
        tar.into_inner().unwrap().finish().unwrap();
        file
    }

    #[test]
    fn a_plain_zip_unpacks() {
        let archive = zip_with(&[("work/exercises/01-redis-setup/src/main.rs", b"fn main() {}")]);
        let into = tempfile::tempdir().unwrap();
        unzip(archive.path(), into.path(), Limits::default()).unwrap();
        let main = into.path().join("work/exercises/01-redis-setup/src/main.rs");
        assert_eq!(std::fs::read(main).unwrap(), b"fn main() {}");
    }

    #[test]
    fn zip_entries_escaping_the_folder_are_refused() {
        let archive = zip_with(&[("../../escaped.rs", b"x")]);
        let into = tempfile::tempdir().unwrap();
        let refusal = unzip(archive.path(), into.path(), Limits::default()).unwrap_err();
        assert!(refusal.contains("outside"), "{refusal}");
        assert!(!into.path().parent().unwrap().join("escaped.rs").exists());
    }

    #[test]
    fn a_zip_bomb_is_refused_by_size_and_by_count() {
        let big = vec![0u8; 4096];
        let archive = zip_with(&[("a", &big), ("b", &big)]);
        let into = tempfile::tempdir().unwrap();
        let refusal = unzip(archive.path(), into.path(), Limits { max_files: 10, max_bytes: 6000 })
            .unwrap_err();
        assert!(refusal.contains("more than"), "{refusal}");
        let many = zip_with(&[("a", b"1"), ("b", b"2"), ("c", b"3")]);
        let refusal = unzip(many.path(), into.path(), Limits { max_files: 2, max_bytes: 1 << 20 })
            .unwrap_err();
        assert!(refusal.contains("more than 2 files"), "{refusal}");
    }

    #[test]
    fn garbage_is_reported_not_panicked_on() {
        let garbage = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(garbage.path(), b"definitely not an archive").unwrap();
        let into = tempfile::tempdir().unwrap();
        assert!(unzip(garbage.path(), into.path(), Limits::default()).is_err());
        assert!(untar_gz(garbage.path(), into.path(), Limits::default()).is_err());
    }

    #[test]
    fn a_tar_gz_unpacks_and_its_links_are_refused() {
        let archive = tar_gz_with(|tar| {
            let mut header = tar::Header::new_gnu();
            header.set_size(3);
            header.set_mode(0o644);
            tar.append_data(&mut header, "exercises/01-redis-setup/src/x.rs", &b"abc"[..]).unwrap();
        });
        let into = tempfile::tempdir().unwrap();
        untar_gz(archive.path(), into.path(), Limits::default()).unwrap();
        assert!(into.path().join("exercises/01-redis-setup/src/x.rs").is_file());

        let linked = tar_gz_with(|tar| {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            tar.append_link(&mut header, "exercises/passwd", "/etc/passwd").unwrap();
        });
        let refusal = untar_gz(linked.path(), into.path(), Limits::default()).unwrap_err();
        assert!(refusal.contains("is a link") && refusal.contains("zip"), "{refusal}");
    }

    #[test]
    fn build_output_and_junk_are_skipped_before_the_limits_count() {
        let big = vec![0u8; 8192];
        let archive = zip_with(&[
            ("work/target/debug/huge", &big),
            ("work/.git/objects/pack", &big),
            ("__MACOSX/work/._lib.rs", b"x"),
            ("work/node_modules/x.js", b"x"),
            ("work/.idea/workspace.xml", b"x"),
            ("work/.vscode/settings.json", b"x"),
            ("work/exercises/.DS_Store", b"x"),
            ("work/exercises/01-redis-setup/src/.lib.rs.swp", b"x"),
            ("work/exercises/01-redis-setup/src/lib.rs~", b"x"),
            ("work/exercises/01-redis-setup/src/lib.rs", b"pub fn f() {}"),
        ]);
        let into = tempfile::tempdir().unwrap();
        unzip(archive.path(), into.path(), Limits { max_files: 1, max_bytes: 4096 }).unwrap();
        let mut found = Vec::new();
        let mut stack = vec![into.path().to_owned()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                if entry.path().is_dir() {
                    stack.push(entry.path());
                } else {
                    found.push(entry.path().strip_prefix(into.path()).unwrap().to_owned());
                }
            }
        }
        assert_eq!(found, [PathBuf::from("work/exercises/01-redis-setup/src/lib.rs")]);
        assert!(!is_junk(Path::new("exercises/01-redis-setup/src/targets.rs")));
    }

    #[test]
    fn a_tar_gz_skips_build_output_before_the_limits_count() {
        let archive = tar_gz_with(|tar| {
            for (name, size) in [("work/target/debug/big", 8192), ("work/exercises/x.rs", 3)] {
                let mut header = tar::Header::new_gnu();
                header.set_size(size as u64);
                header.set_mode(0o644);
                tar.append_data(&mut header, name, vec![b'a'; size].as_slice()).unwrap();
            }
        });
        let into = tempfile::tempdir().unwrap();
        untar_gz(archive.path(), into.path(), Limits { max_files: 1, max_bytes: 4096 }).unwrap();
        assert!(into.path().join("work/exercises/x.rs").is_file());
        assert!(!into.path().join("work/target").exists());
    }

    #[test]
    fn backslash_names_from_powershell_unpack_as_folders() {
        let archive = zip_with(&[("work\\exercises\\01-redis-setup\\src\\lib.rs", b"x")]);
        let into = tempfile::tempdir().unwrap();
        unzip(archive.path(), into.path(), Limits::default()).unwrap();
        assert!(into.path().join("work/exercises/01-redis-setup/src/lib.rs").is_file());
        let listed = zip_file_paths(archive.path()).unwrap();
        assert_eq!(listed, [PathBuf::from("work/exercises/01-redis-setup/src/lib.rs")]);
        for escape in ["..\\..\\escaped.rs", "\\etc\\escaped.rs", "C:\\Users\\escaped.rs"] {
            let archive = zip_with(&[(escape, b"x")]);
            let refusal = unzip(archive.path(), into.path(), Limits::default()).unwrap_err();
            assert!(refusal.contains("outside"), "{escape}: {refusal}");
        }
    }

    #[test]
    fn an_empty_archive_is_called_empty() {
        let into = tempfile::tempdir().unwrap();
        let empty = zip_with(&[]);
        let refusal = unzip(empty.path(), into.path(), Limits::default()).unwrap_err();
        assert!(refusal.starts_with("the archive is empty"), "{refusal}");
        let no_bytes = tempfile::NamedTempFile::new().unwrap();
        let refusal = unzip(no_bytes.path(), into.path(), Limits::default()).unwrap_err();
        assert!(refusal.starts_with("the archive is empty (0 bytes)"), "{refusal}");
        let empty_tar = tar_gz_with(|_| {});
        let refusal = untar_gz(empty_tar.path(), into.path(), Limits::default()).unwrap_err();
        assert!(refusal.starts_with("the archive is empty"), "{refusal}");
        let only_junk = zip_with(&[("work/target/debug/x", b"x"), ("__MACOSX/._x", b"x")]);
        let refusal = unzip(only_junk.path(), into.path(), Limits::default()).unwrap_err();
        assert!(refusal.contains("only build output"), "{refusal}");
    }

    /// The first half of an archive, as an upload that stopped early leaves it.
    fn truncated(archive: &tempfile::NamedTempFile) -> tempfile::NamedTempFile {
        let bytes = std::fs::read(archive.path()).unwrap();
        let half = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(half.path(), &bytes[..bytes.len() / 2]).unwrap();
        half
    }

    #[test]
    fn a_truncated_upload_is_called_truncated_not_renamed() {
        let content: Vec<u8> = (0..4096u32).flat_map(|n| n.to_le_bytes()).collect();
        let into = tempfile::tempdir().unwrap();
        let zip = truncated(&zip_with(&[("work/exercises/01-redis-setup/src/lib.rs", &content)]));
        let refusal = unzip(zip.path(), into.path(), Limits::default()).unwrap_err();
        assert!(refusal.contains("truncated or damaged"), "{refusal}");
        assert!(!refusal.contains("rar"), "{refusal}");
        let tar = truncated(&tar_gz_with(|tar| {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            tar.append_data(&mut header, "work/x.rs", content.as_slice()).unwrap();
        }));
        let refusal = untar_gz(tar.path(), into.path(), Limits::default()).unwrap_err();
        assert!(refusal.contains("truncated or damaged"), "{refusal}");
        let rar = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(rar.path(), b"Rar!\x1a\x07\x01\x00 and more").unwrap();
        let refusal = unzip(rar.path(), into.path(), Limits::default()).unwrap_err();
        assert!(refusal.contains("RAR or 7z archive renamed"), "{refusal}");
    }

    #[test]
    fn a_tar_gz_lists_its_files_without_the_junk() {
        let archive = tar_gz_with(|tar| {
            for name in ["work/target/debug/big", "work/exercises/01-redis-setup/src/x.rs"] {
                let mut header = tar::Header::new_gnu();
                header.set_size(1);
                header.set_mode(0o644);
                tar.append_data(&mut header, name, &b"a"[..]).unwrap();
            }
        });
        let listed = tar_gz_file_paths(archive.path()).unwrap();
        assert_eq!(listed, [PathBuf::from("work/exercises/01-redis-setup/src/x.rs")]);
    }

    #[test]
    fn a_refusal_says_what_to_change() {
        let big = vec![0u8; 4096];
        let archive = zip_with(&[("work/data.bin", &big)]);
        let into = tempfile::tempdir().unwrap();
        let refusal = unzip(archive.path(), into.path(), Limits { max_files: 10, max_bytes: 1000 })
            .unwrap_err();
        assert!(refusal.contains("\"work/data.bin\"") && refusal.contains("zip -r"), "{refusal}");
    }
}
