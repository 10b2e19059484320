//! What this process holds in memory: the figures `norikae import`, `norikae snapshot-info`
//! and the route benchmark print next to a snapshot's load time.

/// Resident and peak resident memory of this process in bytes (Linux; zero elsewhere).
pub fn usage() -> (u64, u64) {
    let [resident, peak] = status_fields(["VmRSS:", "VmHWM:"]);
    (resident, peak)
}

/// The resident memory of this process in bytes split into anonymous memory (what it
/// allocated) and file pages (the mapped snapshot and the binary, which the kernel may drop
/// and read again); Linux, zero elsewhere.
pub fn resident_parts() -> (u64, u64) {
    let [anonymous, file] = status_fields(["RssAnon:", "RssFile:"]);
    (anonymous, file)
}

/// Fields of `/proc/self/status` given in kiB, in bytes (zero where missing).
fn status_fields<const N: usize>(names: [&str; N]) -> [u64; N] {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    names.map(|name| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn a_running_process_holds_some_memory_and_peaks_no_lower() {
        let (resident, peak) = super::usage();
        assert!(resident > 0, "VmRSS read from /proc/self/status");
        assert!(peak >= resident, "peak {peak} below resident {resident}");
        let (anonymous, file) = super::resident_parts();
        assert!(anonymous > 0 && file > 0, "anonymous {anonymous}, file {file}");
    }
}
