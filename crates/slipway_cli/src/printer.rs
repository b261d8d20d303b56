//! Writing to stdout and stderr without panicking. `println!` panics when the
//! reader has gone away (`slipway rules | head -1`); here a closed stdout ends the
//! output quietly and the command keeps the exit code it decided, as ripgrep does.
//! Other write errors (a full disk) are returned.

use std::io::{ErrorKind, Write};

/// Writes `text` to stdout. A reader that closed the pipe is not an error.
pub fn out(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `out` with a newline.
pub fn outln(text: &str) -> std::io::Result<()> {
    out(&format!("{text}\n"))
}

/// Writes `text` to stderr; nowhere left to say a failure, so none is raised.
pub fn err(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
