//! Memory per client, for the benches: the live heap (counted by dhat's allocator, exact)
//! and the process's resident memory, before and after opening many clients.
//!
//! A bench installs the counting allocator and starts the count:
//!
//! ```text
//! #[global_allocator]
//! static ALLOC: dhat::Alloc = dhat::Alloc;
//!
//! let _count = tbi_test_support::memory::count_heap();
//! ```

use std::future::Future;
use std::time::{Duration, Instant};

use tbi_driver::Runtime;

/// Starts counting heap allocations (dhat's allocator must be the global one); counts
/// until dropped. Nothing is written to disk.
pub fn count_heap() -> dhat::Profiler {
    dhat::Profiler::builder().testing().build()
}

/// The resident memory of this process, in KiB (`VmRSS` of `/proc/self/status`; Linux).
pub fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

/// Awaits `open` (which makes the clients), lets them settle for half a second, and
/// prints the live heap and the resident memory they added, per client; returns the
/// clients. Needs [`count_heap`] running.
pub async fn per_client<R: Runtime, T>(
    name: &str,
    unit: &str,
    open: impl Future<Output = Vec<T>>,
) -> Vec<T> {
    let (heap_before, rss_before) = (dhat::HeapStats::get().curr_bytes, resident_kib());
    let clients = open.await;
    R::sleep_until(Instant::now() + Duration::from_millis(500)).await;
    let heap = dhat::HeapStats::get()
        .curr_bytes
        .saturating_sub(heap_before);
    let rss = resident_kib().saturating_sub(rss_before);
    let count = clients.len().max(1) as f64;
    #[allow(clippy::print_stdout, reason = "the bench's report")]
    {
        println!(
            "{name:<28} {} {unit}s: live heap {:>6.1} KiB per {unit}, resident {:>6.1} KiB per {unit}",
            clients.len(),
            heap as f64 / 1024.0 / count,
            rss as f64 / count,
        );
    }
    clients
}
