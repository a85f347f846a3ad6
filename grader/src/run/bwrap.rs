//! The bubblewrap (`bwrap`) command line that confines each untrusted step: the build of a
//! submission, its service and its Redis.
//!
//! bubblewrap is the sandbox Flatpak uses: a small, audited tool that starts a program in
//! namespaces of its own. Inside, the program sees a root of its own built from the mounts
//! named here and nothing else of the host: the toolchain and `/usr` read-only, the folders
//! of its own run, a fresh `/proc` (its own processes only), and private size-limited tmpfs
//! for `/tmp`, `/dev/shm` and `/run`. No `/var/run`, `/home`, class folder or other runs, so
//! no Unix socket of the host's databases either.
//!
//! What bubblewrap does not do stays with the grader's own code ([`crate::run::sandbox`]):
//! rlimits, the pids cgroup, the run's user ids and the Redis ACL.
//!
//! Where `bwrap` is missing or cannot run (macOS, no user namespaces) [`available`] says why,
//! and a student's self-check goes ahead without it, saying so on its isolation line.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use crate::run::users::RunUser;

/// Which network the jailed program gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// None at all, not even the run's loopback: builds are offline (`--frozen`).
    None,
    /// The network namespace of the grading run ([`crate::run::network`]), which is already
    /// loopback-only. Services and Redis must share it: in a namespace of their own each would
    /// get a loopback of its own, where neither the other nor the grader's probes could reach.
    Run,
}

/// Size of each private tmpfs: enough for a service's scratch files, not for filling memory.
const TMPFS_BYTES: u64 = 64 << 20;

/// The pieces of `/etc` that dynamic linking and the C compiler driver need; nothing else.
const ETC_FILES: &[&str] =
    &["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives"];

/// Top-level system folders that programs load from; merged-`/usr` systems make them links.
const SYSTEM_DIRS: &[&str] = &["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/// A `bwrap` command line being built.
#[derive(Debug, Clone)]
pub struct Jail {
    args: Vec<OsString>,
    /// Where something is mounted: a host folder or file, or a scratch folder.
    mounted: Vec<PathBuf>,
}

impl Jail {
    /// The namespaces and mounts every untrusted step gets.
    pub fn new(network: Network) -> Self {
        let mut jail = Self { args: Vec::new(), mounted: Vec::new() };
        // The user namespace is the command's business: see [`Jail::command`].
        jail.flags(&["--unshare-pid", "--unshare-ipc", "--unshare-uts"]);
        jail.flags(&["--unshare-cgroup-try", "--die-with-parent", "--cap-drop", "ALL"]);
        if network == Network::None {
            jail.flags(&["--unshare-net"]);
        }
        jail.ro("/usr");
        for dir in SYSTEM_DIRS {
            jail.system_dir(Path::new(dir));
        }
        for file in ETC_FILES {
            jail.flags(&["--ro-bind-try", file, file]);
            jail.mounted.push(PathBuf::from(file));
        }
        jail.flags(&["--proc", "/proc", "--dev", "/dev"]);
        for dir in ["/tmp", "/dev/shm", "/run"] {
            jail.scratch(dir);
        }
        jail
    }

    /// `path`, read-only, at the same place inside (so that paths in messages and cargo's
    /// dep-info mean the same inside and out).
    pub fn ro(&mut self, path: impl AsRef<Path>) -> &mut Self {
        let path = path.as_ref();
        self.args.extend(["--ro-bind".into(), path.into(), path.into()]);
        self.mounted.push(path.to_owned());
        self
    }

    /// `path`, writable, at the same place inside.
    pub fn rw(&mut self, path: impl AsRef<Path>) -> &mut Self {
        let path = path.as_ref();
        self.args.extend(["--bind".into(), path.into(), path.into()]);
        self.mounted.push(path.to_owned());
        self
    }

    /// An empty folder at `path` that whoever runs inside may write (e.g. a scratch `HOME`):
    /// open to all like `/tmp`, because a program run with [`Jail::command_as`] is not the
    /// root that made it.
    pub fn scratch(&mut self, path: impl AsRef<Path>) -> &mut Self {
        let size = TMPFS_BYTES.to_string();
        self.flags(&["--perms", "1777", "--size", &size]);
        self.args.extend(["--tmpfs".into(), path.as_ref().into()]);
        self.mounted.push(path.as_ref().to_owned());
        self
    }

    /// The folder the program starts in.
    pub fn chdir(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.args.extend(["--chdir".into(), path.as_ref().into()]);
        self
    }

    /// The command that runs `program` in the jail. Its environment is the caller's to set
    /// (bwrap passes it through): clear it first.
    pub fn command(&self, bwrap: &Path, program: impl AsRef<Path>) -> tokio::process::Command {
        self.started(bwrap, user_namespace_flags(), program.as_ref())
    }

    /// The folders above the mounts that bubblewrap made on the way, not mounts themselves.
    fn folders_leading_to_mounts(&self) -> Vec<PathBuf> {
        let mut folders: Vec<PathBuf> = self
            .mounted
            .iter()
            .flat_map(|path| path.ancestors().skip(1))
            .filter(|folder| folder.parent().is_some() && !self.mounted.iter().any(|m| m == folder))
            .map(Path::to_owned)
            .collect();
        folders.sort();
        folders.dedup();
        folders
    }

    fn started<S: AsRef<std::ffi::OsStr>>(
        &self,
        bwrap: &Path,
        flags: &[S],
        program: &Path,
    ) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(bwrap);
        // After the jail's own flags: a `--cap-add` must follow its `--cap-drop ALL`.
        command.args(&self.args).args(flags).arg("--").arg(program);
        command
    }

    /// Like [`Jail::command`], but `program` runs as `user`: bubblewrap, started by root, makes
    /// the mounts (the toolchain under `/root` is root's to mount), then `setpriv` gives up
    /// root and every capability for good before `program` starts. See [`can_change_user`].
    pub fn command_as(
        &self,
        bwrap: &Path,
        user: RunUser,
        program: impl AsRef<Path>,
    ) -> tokio::process::Command {
        // No user namespace, where `user` would have no id. Only the capabilities setpriv
        // needs to change user and clear the bounding set; it drops them all.
        let flags = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"];
        let mut flags: Vec<OsString> = [&flags[..], &["--cap-add", "CAP_SETPCAP"]]
            .concat()
            .into_iter()
            .map(Into::into)
            .collect();
        // bubblewrap makes the folders leading to a mount as private as the host's (`/root`
        // is 0700): open them, or `user` could not reach the toolchain under them.
        for folder in self.folders_leading_to_mounts() {
            flags.extend(["--chmod".into(), "0755".into(), folder.into()]);
        }
        let id = user.id().to_string();
        let mut command = self.started(bwrap, &flags, Path::new(SETPRIV));
        command
            .args(["--reuid", &id, "--regid", &id, "--clear-groups"])
            .args(["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"])
            .arg(program.as_ref());
        command
    }

    /// The arguments given so far, for tests and messages.
    pub fn args(&self) -> &[OsString] {
        &self.args
    }

    fn flags(&mut self, flags: &[&str]) {
        self.args.extend(flags.iter().map(OsString::from));
    }

    /// A top-level system folder as the host has it: the same link, the folder read-only, or
    /// nothing when the host has none.
    fn system_dir(&mut self, dir: &Path) {
        match std::fs::read_link(dir) {
            Ok(target) => {
                self.args.extend(["--symlink".into(), target.into(), dir.into()]);
            }
            Err(_) if dir.is_dir() => {
                self.ro(dir);
            }
            Err(_) => {}
        }
    }
}

/// A user namespace where the machine allows one (always, for a grader that is not root; a
/// grader running as root works without), in which the program may not make namespaces of
/// its own: in a nested one (`unshare -Ur`) it would be root. bubblewrap 0.8 and later can
/// forbid that; an older one jails without, and the isolation line says so.
fn user_namespace_flags() -> &'static [&'static str] {
    const NO_NESTED: &[&str] = &["--unshare-user", "--disable-userns"];
    static FLAGS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    FLAGS.get_or_init(|| match available() {
        Ok(bwrap) if runs_jailed(bwrap, NO_NESTED).is_ok() => NO_NESTED,
        _ => &["--unshare-user-try"],
    })
}

/// Whether a jailed program is kept from making user namespaces of its own.
pub fn blocks_nested_user_namespaces() -> bool {
    user_namespace_flags().contains(&"--disable-userns")
}

/// util-linux's `setpriv`, which changes user inside a jail that root started.
const SETPRIV: &str = "/usr/bin/setpriv";

/// Whether [`Jail::command_as`] can run a program as a run's user: bubblewrap runs, the grader
/// is root (who alone may change user) and `setpriv` is installed.
pub fn can_change_user() -> bool {
    available().is_ok() && crate::run::users::available() && Path::new(SETPRIV).exists()
}

/// Whether untrusted steps run in bubblewrap on this machine: `Ok(bwrap)` with its path, or
/// why not, in words for the scorecard. Probed once: the answer does not change while the
/// grader runs.
pub fn available() -> Result<&'static Path, &'static str> {
    static AVAILABLE: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    match AVAILABLE.get_or_init(probe) {
        Ok(path) => Ok(path),
        Err(why) => Err(why),
    }
}

/// What every jail is, in words for the isolation line.
const JAILED: &str = "bubblewrap: namespaces of its own (mount, pid, ipc, uts, user where \
                      allowed; builds also network), a root of read-only system folders, a \
                      fresh /proc and private /tmp, /dev/shm and /run";

/// What [`available`] found, for the scorecard's isolation line.
pub fn describe() -> String {
    let Ok(_) = available() else {
        return format!("not in bubblewrap ({})", available().err().unwrap_or_default());
    };
    let nested = if blocks_nested_user_namespaces() {
        "no user namespaces of their own"
    } else {
        "nested user namespaces allowed (bubblewrap older than 0.8)"
    };
    let builds =
        if can_change_user() { "; builds as the run's user, all capabilities dropped" } else { "" };
    format!("{JAILED}; {nested}{builds}")
}

/// Runs `true` in a jail as a service would be run: as a run user of its own when the grader
/// is root, which needs the kernel to allow unprivileged user namespaces.
fn probe() -> Result<PathBuf, String> {
    if super::containment_turned_off() {
        return Err("turned off with --without-containment".to_owned());
    }
    let bwrap = find_on_path("bwrap").ok_or_else(|| {
        "bwrap not found: install bubblewrap (Debian/Ubuntu: sudo apt-get install -y bubblewrap)"
            .to_owned()
    })?;
    runs_jailed(&bwrap, &[])?;
    Ok(bwrap)
}

/// Whether `true` runs in a jail with `extra` flags, as a service would be run; why not if not.
fn runs_jailed(bwrap: &Path, extra: &[&str]) -> Result<(), String> {
    let mut command = std::process::Command::new(bwrap);
    command
        .args(Jail::new(Network::None).args())
        .args(extra)
        .args(["--", "true"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    if crate::run::users::available() {
        let probe_user = crate::run::users::PROBE_UID;
        command.uid(probe_user).gid(probe_user);
    }
    let output = command.output().map_err(|err| format!("bwrap cannot be started: {err}"))?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    Err(format!(
        "bwrap cannot run here ({}): the kernel must allow user namespaces \
         (sysctl kernel.unprivileged_userns_clone=1 or user.max_user_namespaces > 0)",
        said.trim()
    ))
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(jail: &Jail) -> String {
        jail.args().iter().map(|arg| arg.to_string_lossy()).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn a_build_has_no_network_and_a_service_shares_the_runs() {
        assert!(joined(&Jail::new(Network::None)).contains("--unshare-net"));
        assert!(!joined(&Jail::new(Network::Run)).contains("--unshare-net"));
    }

    #[test]
    fn the_host_runtime_folders_are_not_in_the_jail() {
        let args = joined(&Jail::new(Network::Run));
        assert!(args.contains("--tmpfs /run") && args.contains("--tmpfs /tmp"), "{args}");
        for host in ["/var", "/home", "/root", "/etc/passwd"] {
            assert!(!args.contains(&format!("bind {host} ")), "{host} is bound: {args}");
        }
    }

    /// Runs `script` in a jail and returns what it printed, or `None` where bwrap cannot run.
    fn in_jail(jail: &Jail, script: &str) -> Option<String> {
        let Ok(bwrap) = available() else {
            eprintln!("skipped: {}", describe());
            return None;
        };
        let mut command = std::process::Command::new(bwrap);
        command.args(jail.args()).args(["--", "sh", "-c", script]);
        let output = command.output().unwrap();
        Some(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    #[test]
    fn a_jailed_program_sees_no_host_socket_folder_and_only_its_own_processes() {
        let script = "ls /run /var/run 2>&1; ls /proc | grep -c '^[0-9]'";
        let Some(seen) = in_jail(&Jail::new(Network::Run), script) else { return };
        assert!(seen.contains("cannot access '/var/run'"), "{seen}");
        assert!(!seen.contains("postgresql"), "{seen}");
        // `sh`, `ls`/`grep` and bubblewrap's own init: a handful, not the machine's.
        let processes: u32 = seen.lines().last().unwrap().trim().parse().unwrap();
        assert!(processes < 6, "{seen}");
    }

    #[test]
    fn a_jailed_folder_bound_read_only_cannot_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut jail = Jail::new(Network::None);
        jail.ro(dir.path());
        let file = dir.path().join("x");
        let script = format!("echo hi > {} && echo wrote", file.display());
        let Some(seen) = in_jail(&jail, &script) else { return };
        assert!(!seen.contains("wrote"), "{seen}");
        assert!(!file.exists());
    }

    #[tokio::test]
    async fn a_program_run_as_a_user_has_that_id_no_capability_and_reaches_the_toolchain() {
        if !can_change_user() {
            eprintln!("skipped: only a grader running as root changes user");
            return;
        }
        // A folder under a private one, as the toolchain is under `/root`.
        let private = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            private.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let tools = private.path().join("toolchain");
        std::fs::create_dir(&tools).unwrap();
        std::fs::write(tools.join("tool"), "#!/bin/sh\necho ran\n").unwrap();
        std::fs::set_permissions(
            tools.join("tool"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let mut jail = Jail::new(Network::None);
        jail.ro(&tools);
        let user = crate::run::users::RunUser::for_tests();
        let script =
            format!("id -u; grep CapEff /proc/self/status; {}", tools.join("tool").display());
        let bwrap = available().unwrap();
        let output =
            jail.command_as(bwrap, user, "/bin/sh").args(["-c", &script]).output().await.unwrap();
        let seen = String::from_utf8_lossy(&output.stdout);
        assert!(seen.starts_with(&format!("{}\n", user.id())), "{seen}");
        assert!(seen.contains("CapEff:\t0000000000000000"), "{seen}");
        assert!(seen.contains("ran"), "{seen}\n{}", String::from_utf8_lossy(&output.stderr));
    }

    #[tokio::test]
    async fn a_service_cannot_make_a_user_namespace_of_its_own_to_be_root_in() {
        let Ok(bwrap) = available() else {
            eprintln!("skipped: {}", describe());
            return;
        };
        if !blocks_nested_user_namespaces() {
            eprintln!("skipped: this bubblewrap cannot forbid nested user namespaces (< 0.8)");
            return;
        }
        let mut command = Jail::new(Network::Run).command(bwrap, "/bin/sh");
        command.args(["-c", "unshare -Ur id -u 2>&1; echo done"]);
        if crate::run::users::available() {
            let user = crate::run::users::RunUser::for_tests();
            command.uid(user.id()).gid(user.id());
        }
        let output = command.output().await.unwrap();
        let seen = String::from_utf8_lossy(&output.stdout);
        assert!(seen.contains("done"), "{seen}\n{}", String::from_utf8_lossy(&output.stderr));
        assert!(!seen.lines().any(|line| line.trim() == "0"), "root in a nested namespace: {seen}");
    }
}
