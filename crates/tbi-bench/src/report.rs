//! The table and the JSON summary.

use serde_json::{Value, json};

use crate::drain::Drained;

/// Prints the connections' table and gives its JSON summary.
pub(crate) fn connections(results: &[crate::connections::Connected]) -> Value {
    #[allow(clippy::cast_precision_loss)]
    let kib = |bytes: u64| format!("{:.1} KiB", bytes as f64 / 1024.0);
    println!();
    println!(
        "| clients | holder | all subscribed | RSS per connection | JS heap per connection | broadcast p50 / p99 | received |"
    );
    println!("|---|---|---|---|---|---|---|");
    for c in results {
        #[allow(clippy::cast_precision_loss)]
        let seconds = c.subscribed_ms as f64 / 1000.0;
        println!(
            "| {} | {} | {seconds:.2} s | {} | {} | {:.1} / {:.1} ms | {}/{} |",
            c.clients,
            c.holder,
            kib(c.rss_per_connection),
            c.js_heap_per_connection.map_or_else(|| "–".into(), kib),
            c.broadcast_p50_ms,
            c.broadcast_p99_ms,
            c.received,
            c.clients,
        );
    }
    for c in results {
        if let Some(storm) = &c.storm {
            let peak = storm.attempts_per_250ms.iter().max().copied().unwrap_or(0);
            #[allow(clippy::cast_precision_loss)]
            let seconds = storm.all_resubscribed_ms as f64 / 1000.0;
            println!(
                "storm, {} clients, {}: {} channels subscribed again {seconds:.2} s after the first loss; {} gave up; attempts per 250 ms: peak {peak}, {:?}",
                c.clients, c.holder, storm.resubscribed, storm.gave_up, storm.attempts_per_250ms,
            );
        }
    }
    let summary = json!({"connections": results});
    println!();
    println!("{summary}");
    summary
}

/// Prints the drain's table (each figure beside pusher-js's from the same source) and
/// gives the JSON summary, which it also prints.
pub(crate) fn drain(results: &[Drained]) -> Value {
    println!();
    println!(
        "| receiver | source | CPU per event | of it in the kernel | events/s (wall) | CPU vs pusher-js | received |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for d in results {
        let pusher_js = results
            .iter()
            .find(|p| p.source == d.source && p.receiver.starts_with("pusher-js"))
            .map(|p| p.cpu_ns_per_event);
        let ratio = pusher_js.map(|p| d.cpu_ns_per_event / p);
        println!(
            "| {} | {:?} | {:.0} ns | {:.0} % | {:.0} k | {} | {}/{} |",
            d.receiver,
            d.source,
            d.cpu_ns_per_event,
            d.kernel_share * 100.0,
            d.events_per_second / 1000.0,
            ratio.map_or_else(|| "–".into(), |r| format!("{r:.2}×")),
            d.received,
            d.events,
        );
        let mut row = serde_json::to_value(d).unwrap_or(Value::Null);
        if let (Some(map), Some(ratio)) = (row.as_object_mut(), ratio) {
            map.insert("cpu_vs_pusher_js".into(), json!(ratio));
        }
        rows.push(row);
    }
    let summary = json!({"drain": rows});
    println!();
    println!("{summary}");
    summary
}
