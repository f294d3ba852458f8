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
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
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
    Duration::from_millis((field(11) + field(12)) * 10)
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
    usage(UsageWho::RUSAGE_CHILDREN)
}

fn usage(who: UsageWho) -> Duration {
    let Ok(usage) = getrusage(who) else {
        return Duration::ZERO;
    };
    let time = |t: nix::sys::time::TimeVal| {
        let seconds = u64::try_from(t.tv_sec()).unwrap_or(0);
        let micros = u64::try_from(t.tv_usec()).unwrap_or(0);
        Duration::from_secs(seconds) + Duration::from_micros(micros)
    };
    time(usage.user_time()) + time(usage.system_time())
}
