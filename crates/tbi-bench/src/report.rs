//! The table and the JSON summary.

use serde_json::{Value, json};

use crate::drain::Drained;

/// Prints the drain's table (each figure beside pusher-js's from the same source) and
/// gives the JSON summary, which it also prints.
pub(crate) fn drain(results: &[Drained]) -> Value {
    println!();
    println!(
        "| receiver | source | CPU per event | events/s (wall) | CPU vs pusher-js | received |"
    );
    println!("|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for d in results {
        let pusher_js = results
            .iter()
            .find(|p| p.source == d.source && p.receiver.starts_with("pusher-js"))
            .map(|p| p.cpu_ns_per_event);
        let ratio = pusher_js.map(|p| d.cpu_ns_per_event / p);
        println!(
            "| {} | {:?} | {:.0} ns | {:.0} k | {} | {}/{} |",
            d.receiver,
            d.source,
            d.cpu_ns_per_event,
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
