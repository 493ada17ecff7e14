//! The real `pushpull` binary as a child process, with everything it
//! writes kept line by line — for the tests that check what an operator
//! sees (`logs`) and the one that starts it exactly as compose would
//! (`compose`). In-process services (`helpers`) cannot show that: the
//! global log subscriber, the banner and stdout belong to the binary.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The stream a line came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

type Lines = Arc<Mutex<Vec<(Stream, String)>>>;

/// A running `pushpull`, killed when dropped.
pub struct Binary {
    name: String,
    child: Child,
    lines: Lines,
    readers: Vec<JoinHandle<()>>,
}

impl Binary {
    /// `pushpull ARGS…` in `dir`, with exactly `env` (nothing inherited, as
    /// in a container: what the test does not set, the binary does not see).
    pub fn start(name: &str, args: &[&str], env: &BTreeMap<String, String>, dir: &Path) -> Binary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pushpull"))
            .args(args)
            .env_clear()
            .envs(env)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the pushpull binary starts");
        let lines = Lines::default();
        let readers = vec![
            keep(child.stdout.take().unwrap(), Stream::Stdout, lines.clone()),
            keep(child.stderr.take().unwrap(), Stream::Stderr, lines.clone()),
        ];
        Binary {
            name: name.to_owned(),
            child,
            lines,
            readers,
        }
    }

    /// Every line so far, on either stream, in the order they were read.
    pub fn lines(&self) -> Vec<(Stream, String)> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (up to `within`) for a line on either stream that `want`
    /// accepts, and returns it; on time-out, fails showing all it wrote.
    pub async fn line(&self, within: Duration, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some((_, line)) = self.lines().into_iter().find(|(_, l)| want(l)) {
                return line;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "timed out after {within:?} waiting for {}: {what}\n{}",
                    self.name,
                    self.transcript()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the process and returns everything it wrote, to the last line.
    pub fn stop(&mut self) -> Vec<(Stream, String)> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        self.lines()
    }

    /// What it wrote, each line marked with its stream (for failure messages).
    pub fn transcript(&self) -> String {
        let mut out = format!("--- {} wrote:\n", self.name);
        for (stream, line) in self.lines() {
            let mark = match stream {
                Stream::Stdout => "out",
                Stream::Stderr => "err",
            };
            out.push_str(&format!("{mark}| {line}\n"));
        }
        out
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `from` to its end on a thread of its own, a line at a time.
fn keep(from: impl Read + Send + 'static, stream: Stream, into: Lines) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap().push((stream, line));
        }
    })
}
