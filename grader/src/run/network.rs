//! A network of its own for each grading run: only a loopback interface, so nothing the
//! student's code starts can reach the internet, the machine's other services or another
//! submission's Redis and service.
//!
//! On Linux a network namespace belongs to a *thread*, and every thread and process it starts
//! inherits it. So a run is a runtime of its own: its first thread unshares a new namespace
//! and every other thread of that runtime joins it before doing any work. Redis, the service,
//! the build and the grader's probes all live on that runtime, and the probes reach the
//! service over the namespace's loopback. Where the kernel refuses (no `CAP_SYS_ADMIN`), or
//! has no network namespaces (macOS), the run goes ahead on the machine's network and says so.

use std::fs::File;
use std::future::Future;
#[cfg(target_os = "linux")]
use std::os::fd::AsRawFd;
use std::sync::Arc;

/// Which network a run had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// A namespace of its own with only loopback.
    Private,
    /// The machine's network, and why.
    Shared(String),
}

impl Network {
    /// In words, for the scorecard's isolation line.
    pub fn describe(&self) -> String {
        match self {
            Network::Private => "network: a namespace of its own, loopback only".to_owned(),
            Network::Shared(why) => format!("network: the machine's ({why})"),
        }
    }
}

/// Runs the future `job` makes on a runtime of its own, in a private network unless
/// `shared_because` says why not, and when the machine allows it. Dropping the returned future cancels the job and waits until it
/// has cleaned up (stopped its processes), so that nothing outlives the grader.
pub async fn run<F, T>(
    shared_because: Option<&'static str>,
    job: impl FnOnce(Network) -> F + Send + 'static,
) -> T
where
    F: Future<Output = T> + 'static,
    T: Send + 'static,
{
    let (done, finished) = tokio::sync::oneshot::channel();
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("grading".to_owned())
        .spawn(move || {
            let (network, namespace) = match shared_because {
                None => match unshare_network() {
                    Ok(namespace) => (Network::Private, Some(Arc::new(namespace))),
                    Err(why) => (Network::Shared(why), None),
                },
                Some(why) => (Network::Shared(why.to_owned()), None),
            };
            let runtime = runtime(namespace).expect("a tokio runtime can be built");
            let outcome = runtime.block_on(async move {
                tokio::select! {
                    outcome = job(network) => Some(outcome),
                    _ = cancelled => None,
                }
            });
            if let Some(outcome) = outcome {
                let _ = done.send(outcome);
            }
        })
        .expect("a thread can be started");
    let guard = JoinOnDrop { cancel: Some(cancel), thread: Some(thread) };
    let outcome = finished.await.expect("the grading thread panicked before it had an outcome");
    drop(guard);
    outcome
}

/// Cancels the job and waits for its thread when the caller gives up on it (e.g. Ctrl-C).
struct JoinOnDrop {
    cancel: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for JoinOnDrop {
    fn drop(&mut self) {
        if let Some(cancel) = self.cancel.take() {
            let _ = cancel.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn runtime(namespace: Option<Arc<File>>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(2).enable_all();
    if let Some(namespace) = namespace {
        builder.on_thread_start(move || join_network(&namespace));
    }
    builder.build()
}

/// Moves the calling thread into the run's network namespace.
#[cfg(target_os = "linux")]
fn join_network(namespace: &File) {
    // SAFETY: setns reads the descriptor, which the caller keeps open.
    let joined = unsafe { libc::setns(namespace.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(joined, 0, "a grading thread could not join the run's network");
}

/// Never called: without network namespaces, [`unshare_network`] gives none to join.
#[cfg(not(target_os = "linux"))]
fn join_network(_namespace: &File) {
    unreachable!("network namespaces exist only on Linux")
}

/// Whether runs here can have a network of their own: probed on a thread that ends with it.
pub fn private_available() -> Result<(), String> {
    std::thread::spawn(|| unshare_network().map(drop))
        .join()
        .unwrap_or_else(|_| Err("not isolated: the network probe panicked".to_owned()))
}

/// Only Linux has network namespaces.
#[cfg(not(target_os = "linux"))]
fn unshare_network() -> Result<File, String> {
    Err("not isolated: network namespaces are Linux-only".to_owned())
}

/// Moves the calling thread into a new network namespace with loopback up; returns a handle
/// that lets other threads join it.
#[cfg(target_os = "linux")]
fn unshare_network() -> Result<File, String> {
    if super::containment_turned_off() {
        return Err("not isolated: turned off with --without-containment".to_owned());
    }
    // SAFETY: unshare takes flags and touches no memory of ours.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        let err = std::io::Error::last_os_error();
        return Err(format!("not isolated: a network namespace was refused: {err}"));
    }
    loopback_up().map_err(|err| format!("not isolated: loopback could not be started: {err}"))?;
    File::open("/proc/thread-self/ns/net")
        .map_err(|err| format!("not isolated: the namespace cannot be shared: {err}"))
}

/// `ip link set lo up`, for the calling thread's namespace.
#[cfg(target_os = "linux")]
fn loopback_up() -> std::io::Result<()> {
    // SAFETY: a socket(2) call with constant arguments.
    let socket = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if socket < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the descriptor was just created and is owned by nobody else.
    let socket = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(socket) };
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *slot = *byte as libc::c_char;
    }
    request.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_LOOPBACK | libc::IFF_RUNNING) as i16;
    // SAFETY: SIOCSIFFLAGS reads the ifreq we pass, which outlives the call.
    if unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The network namespace of the calling thread.
    fn namespace() -> std::path::PathBuf {
        std::fs::read_link("/proc/thread-self/ns/net").unwrap()
    }

    /// The interfaces the calling thread sees.
    fn interfaces() -> Vec<String> {
        std::fs::read_to_string("/proc/thread-self/net/dev")
            .unwrap()
            .lines()
            .skip(2)
            .filter_map(|line| line.split(':').next().map(|name| name.trim().to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn a_private_run_sees_only_loopback_and_can_use_it() {
        let outside = namespace();
        let (network, seen, echoed, inside) = run(None, |network| async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            // Another task, possibly on another thread of the runtime, connects to it.
            let client = tokio::spawn(async move {
                tokio::net::TcpStream::connect(address).await.is_ok()
                    && tokio::task::spawn_blocking(interfaces).await.unwrap() == interfaces()
            });
            let _ = listener.accept().await.unwrap();
            (network, interfaces(), client.await.unwrap(), namespace())
        })
        .await;
        if let Network::Shared(why) = network {
            eprintln!("skipped: {why}");
            return;
        }
        assert_eq!(seen, ["lo"], "a private run sees only loopback");
        assert!(echoed, "threads of the run share its network");
        assert_ne!(inside, outside, "the run has a network of its own");
        assert_eq!(namespace(), outside, "the caller keeps its network");
    }
}
