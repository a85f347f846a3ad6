//! A disk of its own for each run: where the grader is root on Linux, the run's folder is a
//! tmpfs with a cap on its size and on its number of files. A service that writes without end
//! fills its own run's disk and gets `No space left on device`; the machine's disk, the class
//! folder and the other runs never notice. Its pages are memory, counted against the memory
//! cgroup of whoever writes them (the service's).
//!
//! A grader that is not root (a student's self-check) keeps an ordinary folder: the file-size
//! rlimit still caps each file.

use std::path::{Path, PathBuf};

use anyhow::Result;

/// The most a run may write into its folder: the built binaries, the services' SQLite files
/// and whatever else they keep, with room to spare.
pub const RUN_DISK_BYTES: u64 = 1 << 30;

/// The most files and folders a run may create.
pub const RUN_DISK_FILES: u64 = 20_000;

/// A run folder mounted as a disk of its own, unmounted (and removed) when dropped.
pub struct RunDisk {
    /// `None` where the folder stays an ordinary folder.
    mounted: Option<PathBuf>,
}

impl RunDisk {
    /// Makes `folder` (empty, the grader's) a disk of its own where the grader may mount one:
    /// root's, mode 0711 like the folder it replaces (see `users::claim_run_folder`).
    pub fn mount(folder: &Path) -> Result<Self> {
        if available().is_err() {
            return Ok(Self { mounted: None });
        }
        mount_tmpfs(folder)?;
        Ok(Self { mounted: Some(folder.to_owned()) })
    }

    /// Whether writes to the run folder are capped, for the isolation line.
    pub fn capped(&self) -> bool {
        self.mounted.is_some()
    }
}

/// Whether runs get disks of their own here: where the grader is root on Linux and may mount
/// (a container without `CAP_SYS_ADMIN` may not); why not if not.
pub fn available() -> Result<(), String> {
    static AVAILABLE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    AVAILABLE.get_or_init(probe).clone()
}

fn probe() -> Result<(), String> {
    if !super::users::available() {
        return Err("a disk of its own per run needs root on Linux".to_owned());
    }
    let folder = tempfile::Builder::new()
        .prefix("grader-disk-probe-")
        .tempdir()
        .map_err(|err| format!("no folder to try a mount in: {err}"))?;
    mount_tmpfs(folder.path()).map_err(|err| format!("{err:#}"))?;
    unmount(folder.path());
    Ok(())
}

impl Drop for RunDisk {
    fn drop(&mut self) {
        if let Some(folder) = self.mounted.take() {
            unmount(&folder);
            let _ = std::fs::remove_dir(&folder);
        }
    }
}

/// Mounts a capped tmpfs on `folder`.
#[cfg(target_os = "linux")]
fn mount_tmpfs(folder: &Path) -> Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    use anyhow::Context;

    let target = CString::new(folder.as_os_str().as_bytes())?;
    let options =
        CString::new(format!("size={RUN_DISK_BYTES},nr_inodes={RUN_DISK_FILES},mode=0711"))?;
    // SAFETY: mount(2) reads the NUL-terminated strings we pass, all alive for the call.
    let mounted = unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            options.as_ptr().cast(),
        )
    };
    if mounted != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("cannot mount a disk of its own on {}", folder.display()));
    }
    Ok(())
}

/// Never called: [`RunDisk::mount`] mounts only where run users are, on Linux.
#[cfg(not(target_os = "linux"))]
fn mount_tmpfs(_folder: &Path) -> Result<()> {
    anyhow::bail!("a disk of its own per run is Linux-only")
}

/// Unmounts `folder`, even while something still has a file open in it (it goes when they
/// close it).
#[cfg(target_os = "linux")]
fn unmount(folder: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let Ok(target) = std::ffi::CString::new(folder.as_os_str().as_bytes()) else { return };
    // SAFETY: umount2 reads the NUL-terminated path, alive for the call.
    unsafe {
        libc::umount2(target.as_ptr(), libc::MNT_DETACH);
    }
}

#[cfg(not(target_os = "linux"))]
fn unmount(_folder: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_fills_its_own_disk_and_no_more() {
        let folder = tempfile::tempdir().unwrap().keep();
        let disk = RunDisk::mount(&folder).unwrap();
        if !disk.capped() {
            eprintln!("skipped: only a grader running as root on Linux mounts run disks");
            std::fs::remove_dir(&folder).unwrap();
            return;
        }
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&folder).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o711);
        let too_many = (0..=RUN_DISK_FILES)
            .find(|n| std::fs::write(folder.join(format!("f{n}")), b"").is_err());
        assert!(too_many.is_some(), "{RUN_DISK_FILES} files did not fill the disk");
        drop(disk);
        assert!(!folder.exists(), "the run's disk was left behind");
    }
}
