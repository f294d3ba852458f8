//! CPU time of a receiver process, as the operating system accounts it.

use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};

/// User plus system time of a live process: the larger of its threads' `schedstat`
/// (nanoseconds on the CPU, exact, but only of the threads still alive) and its
/// `/proc/<pid>/stat` times (every thread, in 10 ms ticks).
pub(crate) fn live(pid: u32) -> Duration {
    threads(pid).max(ticks(pid))
}

fn ticks(pid: u32) -> Duration {
    let (user, system) = ticks_split(pid);
    user + system
}

/// The system (kernel) part of [`live`]: its ticks' share of it (the ticks split the
/// time between user and system; the total is the precise figure).
pub(crate) fn live_system(pid: u32) -> Duration {
    let (user, system) = ticks_split(pid);
    let ticks = (user + system).as_secs_f64();
    if ticks == 0.0 {
        return Duration::ZERO;
    }
    live(pid).mul_f64(system.as_secs_f64() / ticks)
}

/// A live process's user and system times, from `/proc/<pid>/stat` (10 ms ticks).
fn ticks_split(pid: u32) -> (Duration, Duration) {
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

/// User plus system time of every child this process has waited for.
pub(crate) fn waited_children() -> Duration {
    let (user, system) = usage(UsageWho::RUSAGE_CHILDREN);
    user + system
}

/// The system (kernel) part of [`waited_children`].
pub(crate) fn waited_children_system() -> Duration {
    usage(UsageWho::RUSAGE_CHILDREN).1
}

/// User and system times.
fn usage(who: UsageWho) -> (Duration, Duration) {
    let Ok(usage) = getrusage(who) else {
        return (Duration::ZERO, Duration::ZERO);
    };
    let time = |t: nix::sys::time::TimeVal| {
        let seconds = u64::try_from(t.tv_sec()).unwrap_or(0);
        let micros = u64::try_from(t.tv_usec()).unwrap_or(0);
        Duration::from_secs(seconds) + Duration::from_micros(micros)
    };
    (time(usage.user_time()), time(usage.system_time()))
}
