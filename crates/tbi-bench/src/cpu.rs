//! CPU time of a receiver process, as the operating system accounts it.

use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};

/// CPU time used: user plus system, and the system (kernel) part of it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cpu {
    /// User plus system time.
    pub(crate) total: Duration,
    /// The part of it spent in the kernel.
    pub(crate) system: Duration,
}

impl Cpu {
    /// What was used since `before` (never negative).
    pub(crate) fn since(self, before: Self) -> Self {
        Self {
            total: self.total.saturating_sub(before.total),
            system: self.system.saturating_sub(before.system),
        }
    }

    /// The kernel's share of the total (0 to 1; 0 when nothing was used).
    pub(crate) fn kernel_share(self) -> f64 {
        if self.total.is_zero() {
            return 0.0;
        }
        (self.system.as_secs_f64() / self.total.as_secs_f64()).min(1.0)
    }
}

/// CPU time of a live process. The total is the larger of its threads' `schedstat`
/// (nanoseconds on the CPU, exact, but only of the threads still alive) and its
/// `/proc/<pid>/stat` times (every thread, in 10 ms ticks); the system part is the
/// ticks' share of that total (the ticks split the time between user and system).
pub(crate) fn live(pid: u32) -> Cpu {
    let (user, system) = ticks(pid);
    let ticked = user + system;
    let total = threads(pid).max(ticked);
    let system = if ticked.is_zero() {
        Duration::ZERO
    } else {
        total.mul_f64(system.as_secs_f64() / ticked.as_secs_f64())
    };
    Cpu { total, system }
}

/// A live process's user and system times, from `/proc/<pid>/stat` (10 ms ticks).
fn ticks(pid: u32) -> (Duration, Duration) {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return (Duration::ZERO, Duration::ZERO);
    };
    // After the command's closing parenthesis: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let tick = |i| Duration::from_millis(field(i).saturating_mul(10));
    (tick(11), tick(12))
}

fn threads(pid: u32) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// CPU time of every child this process has waited for.
pub(crate) fn waited_children() -> Cpu {
    let Ok(usage) = getrusage(UsageWho::RUSAGE_CHILDREN) else {
        return Cpu::default();
    };
    let time = |t: nix::sys::time::TimeVal| {
        let seconds = u64::try_from(t.tv_sec()).unwrap_or(0);
        let micros = u64::try_from(t.tv_usec()).unwrap_or(0);
        Duration::from_secs(seconds) + Duration::from_micros(micros)
    };
    let system = time(usage.system_time());
    Cpu {
        total: time(usage.user_time()) + system,
        system,
    }
}
