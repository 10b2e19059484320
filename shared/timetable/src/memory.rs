//! What this process holds in memory: the figures `norikae import`, `norikae snapshot-info`
//! and the route benchmark print next to a snapshot's load time.

/// Resident and peak resident memory of this process in bytes (Linux; zero elsewhere).
pub fn usage() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn a_running_process_holds_some_memory_and_peaks_no_lower() {
        let (resident, peak) = super::usage();
        assert!(resident > 0, "VmRSS read from /proc/self/status");
        assert!(peak >= resident, "peak {peak} below resident {resident}");
    }
}
