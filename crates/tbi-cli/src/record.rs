//! `--record FILE.jsonl`: the file a live session is recorded to, named after its stem.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use crate::exit::Exit;
use crate::output::error;

/// The fixture's name (the file's stem) and the buffered file; an error is printed.
pub(crate) fn create(path: &Path) -> Result<(String, BufWriter<File>), Exit> {
    match File::create(path) {
        Ok(file) => {
            let name = path
                .file_stem()
                .map_or_else(|| "recording".into(), |s| s.to_string_lossy().into_owned());
            Ok((name, BufWriter::new(file)))
        }
        Err(e) => {
            error(&format!("cannot create {}: {e}", path.display()));
            Err(Exit::Failed)
        }
    }
}
