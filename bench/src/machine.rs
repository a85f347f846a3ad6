//! The machine a run was measured on: figures only compare within one run on one machine.

use std::time::SystemTime;

#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub cores: usize,
    /// The 1, 5 and 15 minute load averages, when the system reports them.
    pub load_average: Option<[f64; 3]>,
    /// RFC 1123, e.g. `Mon, 30 Nov 2026 17:40:00 GMT`.
    pub date: String,
}

impl Machine {
    pub fn now() -> Self {
        Self {
            cores: std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            load_average: load_average(),
            date: httpdate::fmt_http_date(SystemTime::now()),
        }
    }
}

fn load_average() -> Option<[f64; 3]> {
    let mut averages = [0.0; 3];
    // SAFETY: getloadavg(3) writes at most 3 doubles into the array it is given.
    let read = unsafe { libc::getloadavg(averages.as_mut_ptr(), 3) };
    (read == 3).then_some(averages)
}
