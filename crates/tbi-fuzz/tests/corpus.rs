//! Replays every input of the committed fuzz corpus (`fuzz/corpus/{target}/`) through its
//! target, on stable: what the fuzzers found once stays found.

use std::path::Path;

#[test]
fn every_committed_input_runs_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut ran = 0;
    for (name, target) in tbi_fuzz::TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("the corpus of {name} ({}): {e}", dir.display()));
        let mut inputs: Vec<_> = entries.map(|e| e.expect("an entry").path()).collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "{name} has no corpus");
        for input in inputs {
            let bytes = std::fs::read(&input).expect("readable");
            target(&bytes);
            ran += 1;
        }
    }
    assert!(ran > 0);
}

#[test]
fn empty_and_short_inputs_run_clean() {
    for (_, target) in tbi_fuzz::TARGETS {
        target(&[]);
        target(&[0]);
        target(&[255; 64]);
    }
}
