//! Property tests over everything a submission supplies: archives and their entries, file
//! names, manifests, the grader's state files and cargo's dep-info. Whatever the input, the
//! grader must answer with a result or a refusal, never panic, and never write outside the
//! folder it unpacks into. Bounded case counts keep them cheap enough for every `cargo test`.

use std::io::Write;
use std::path::{Component, Path};

use proptest::prelude::*;

use crate::batch::extract::{self, Limits};
use crate::batch::submissions;

/// Small limits, so that the size and count checks are exercised too.
const LIMITS: Limits = Limits { max_files: 8, max_bytes: 4096 };

/// Entry names built from the parts that make archives dangerous.
fn entry_name() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just(String::new()),
        Just("exercises".to_owned()),
        Just("src".to_owned()),
        "[a-z\\\\:~]{1,4}",
    ];
    (any::<bool>(), proptest::collection::vec(part, 1..5)).prop_map(|(absolute, parts)| {
        format!("{}{}", if absolute { "/" } else { "" }, parts.join("/"))
    })
}

/// Every file below `dir`, which must not be a link.
fn files_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let kind = entry.file_type().unwrap();
        assert!(!kind.is_symlink(), "a link was unpacked: {}", entry.path().display());
        if kind.is_dir() {
            files.extend(files_below(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

/// Unpacks into `inner` of a fresh folder and checks nothing landed beside it.
fn unpack_contained(unpack: impl FnOnce(&Path) -> Result<(), String>) -> Result<(), String> {
    let outer = tempfile::tempdir().unwrap();
    let inner = outer.path().join("into");
    std::fs::create_dir(&inner).unwrap();
    let outcome = unpack(&inner);
    let beside: Vec<_> = std::fs::read_dir(outer.path()).unwrap().flatten().collect();
    assert_eq!(beside.len(), 1, "an entry escaped the destination");
    let files = files_below(&inner);
    assert!(files.len() <= LIMITS.max_files, "more files than allowed: {files:?}");
    let bytes: u64 = files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();
    assert!(bytes <= LIMITS.max_bytes, "more bytes than allowed: {bytes}");
    outcome
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn zips_of_any_names_unpack_inside_or_are_refused(
        entries in proptest::collection::vec((entry_name(), proptest::collection::vec(any::<u8>(), 0..1500)), 0..10)
    ) {
        let archive = tempfile::NamedTempFile::new().unwrap();
        let mut zip = zip::ZipWriter::new(archive.reopen().unwrap());
        for (name, content) in &entries {
            if zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).is_ok() {
                zip.write_all(content).unwrap();
            }
        }
        zip.finish().unwrap();
        let _ = unpack_contained(|into| extract::unzip(archive.path(), into, LIMITS));
    }

    #[test]
    fn tars_of_any_names_and_kinds_unpack_inside_or_are_refused(
        entries in proptest::collection::vec(
            (entry_name(), 0u8..8, proptest::collection::vec(any::<u8>(), 0..1500)), 0..10)
    ) {
        let archive = tempfile::NamedTempFile::new().unwrap();
        let encoder = flate2::write::GzEncoder::new(archive.reopen().unwrap(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(encoder);
        for (name, kind, content) in &entries {
            let mut header = tar::Header::new_gnu();
            // Names go into the raw header: the builder itself would refuse `..` and `/`.
            let bytes = name.as_bytes();
            let field = &mut header.as_old_mut().name;
            let len = bytes.len().min(field.len());
            field[..len].copy_from_slice(&bytes[..len]);
            header.set_entry_type(match kind {
                0 => tar::EntryType::Directory,
                1 => tar::EntryType::Symlink,
                2 => tar::EntryType::Link,
                3 => tar::EntryType::Fifo,
                _ => tar::EntryType::Regular,
            });
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append(&header, content.as_slice()).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
        let _ = unpack_contained(|into| extract::untar_gz(archive.path(), into, LIMITS));
    }

    #[test]
    fn any_bytes_are_refused_or_unpacked_never_panicked_on(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let archive = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(archive.path(), &bytes).unwrap();
        let _ = unpack_contained(|into| extract::unzip(archive.path(), into, LIMITS));
        let _ = unpack_contained(|into| extract::untar_gz(archive.path(), into, LIMITS));
    }

    #[test]
    fn a_student_id_is_always_one_safe_folder_name(name in "\\PC{0,40}") {
        let id = submissions::student_id(&name);
        let components: Vec<Component> = Path::new(&id).components().collect();
        prop_assert!(matches!(components[..], [Component::Normal(_)]), "{id:?} from {name:?}");
    }

    #[test]
    fn manifests_and_state_files_of_any_text_are_parsed_or_refused(text in "\\PC{0,200}") {
        let _ = crate::run::compile::manifest_without_name(&text);
        let _ = crate::run::compile::dep_info_files(&text);
        let _ = serde_json::from_str::<crate::student::progress::Progress>(&text);
        let _ = serde_json::from_str::<crate::batch::meta::Meta>(&text);
        let _ = serde_json::from_str::<crate::report::Report>(&text);
    }
}
