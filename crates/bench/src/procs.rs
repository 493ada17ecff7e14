//! The bench's child processes, and what the kernel says they cost.
//!
//! Every service under test is a separate process (the launcher's binary,
//! run as `pushpull store`, `pushpull inventory` or the hidden `pushpull
//! floor-hop`), so each pays its own HTTP and process costs, and so the
//! kernel can tell us each one's CPU time and memory from `/proc`:
//!
//! * CPU time: `utime + stime` of `/proc/<pid>/stat` (all threads of the
//!   process, in clock ticks), read before and after a run;
//! * peak memory: `VmHWM` of `/proc/<pid>/status` (the resident set's
//!   high-water mark, which only grows).
//!
//! The trade-off: `/proc` counts in ticks of 10 ms, so CPU per order is
//! only meaningful over runs of many orders — which is what the bench
//! does; it is also Linux only, and elsewhere those figures are absent.
//!
//! [`Processes`] kills and reaps every child it started when it is dropped,
//! on every exit path of the bench (an error, Ctrl-C, a panic).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`): 100 on every
/// Linux architecture the bench runs on, fixed by the kernel's ABI.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time a process has used so far (user + system, all its threads).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CpuTime {
    pub seconds: f64,
}

impl CpuTime {
    /// Parses `/proc/<pid>/stat`. The command name (field 2) is in
    /// parentheses and may itself contain spaces or parentheses, so the
    /// fields are counted from the *last* `)`.
    pub fn parse_stat(stat: &str) -> Option<CpuTime> {
        let after_name = &stat[stat.rfind(')')? + 1..];
        // After the name: state (field 3), …, utime (14), stime (15).
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
        let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
        Some(CpuTime {
            seconds: (utime + stime) as f64 / TICKS_PER_SECOND,
        })
    }

    pub fn of(pid: u32) -> Option<CpuTime> {
        CpuTime::parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// Milliseconds of CPU per unit of work between two readings.
    pub fn ms_per(self, later: CpuTime, units: usize) -> f64 {
        (later.seconds - self.seconds) * 1000.0 / units.max(1) as f64
    }
}

/// Peak resident memory (`VmHWM`) in KiB, from `/proc/<pid>/status`.
pub fn parse_peak_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    parse_peak_rss_kib(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// One child process the bench started, with the file its log goes to.
pub struct Spawned {
    pub name: String,
    child: Child,
    log: PathBuf,
}

impl Spawned {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn cpu(&self) -> CpuTime {
        CpuTime::of(self.pid()).unwrap_or_default()
    }

    pub fn peak_rss_kib(&self) -> Option<u64> {
        peak_rss_kib(self.pid())
    }

    /// An error if the process has exited (with the end of its log, which
    /// usually says why).
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}); the end of its log:\n{}",
                self.name,
                self.log_tail(20)
            );
        }
        Ok(())
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// Every child the bench started; all killed and reaped on drop.
#[derive(Default)]
pub struct Processes(Vec<Spawned>);

impl Processes {
    /// Starts `exe args…` in `dir` with `env` added, its stdout and
    /// stderr (where the services log) in `dir/<name>.log`.
    pub fn spawn(
        &mut self,
        name: &str,
        exe: &Path,
        args: &[String],
        env: &[(&str, String)],
        dir: &Path,
    ) -> anyhow::Result<usize> {
        let log = dir.join(format!("{}.log", name.replace(' ', "-")));
        let file = std::fs::File::create(&log)?;
        let child = Command::new(exe)
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            // Quiet by default: logging is work the figures should not
            // include. `BENCH_RUST_LOG` asks for more while profiling (e.g.
            // `sqlx::query=debug` counts the statements per order).
            .env(
                "RUST_LOG",
                std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "warn".to_owned()),
            )
            .current_dir(dir)
            .stdin(Stdio::null())
            // The services log to stdout, errors before logging to stderr.
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting {name} ({})", exe.display()))?;
        self.0.push(Spawned {
            name: name.to_owned(),
            child,
            log,
        });
        Ok(self.0.len() - 1)
    }

    /// Stops the child at `index` and starts `exe args…` in its place (the
    /// same index, so readings keep naming it), as [`Processes::spawn`],
    /// as `name` (its log is its own: the old one is kept).
    pub fn respawn(
        &mut self,
        index: usize,
        name: &str,
        exe: &Path,
        args: &[String],
        env: &[(&str, String)],
        dir: &Path,
    ) -> anyhow::Result<()> {
        let new = self.spawn(name, exe, args, env, dir)?;
        let mut old = self.0.swap_remove(index);
        debug_assert_eq!(new, self.0.len());
        let _ = old.child.kill();
        let _ = old.child.wait();
        Ok(())
    }

    pub fn get(&self, index: usize) -> &Spawned {
        &self.0[index]
    }

    pub fn get_mut(&mut self, index: usize) -> &mut Spawned {
        &mut self.0[index]
    }

    /// An error naming the first child that has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        self.0.iter_mut().try_for_each(Spawned::check_alive)
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for spawned in &mut self.0 {
            let _ = spawned.child.kill();
            let _ = spawned.child.wait();
        }
    }
}

/// A port nobody listens on right now (the OS picks it).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Waits until `GET url` answers 2xx, checking meanwhile that the process
/// serving it is still alive.
pub async fn wait_healthy(
    client: &reqwest::Client,
    processes: &mut Processes,
    index: usize,
    url: &str,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        processes.get_mut(index).check_alive()?;
        if tokio::time::Instant::now() > deadline {
            bail!(
                "{} did not answer {url} within 60 s; the end of its log:\n{}",
                processes.get(index).name,
                processes.get(index).log_tail(20)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_after_the_last_parenthesis() {
        // A command name with a space and a parenthesis in it; utime 250
        // and stime 50 ticks.
        let stat = "4242 (pushpull (x) y) S 1 4242 4242 0 -1 4194304 1200 0 0 0 250 50 0 0 20 0 9 0 \
                    100 123456789 2000 18446744073709551615";
        assert_eq!(CpuTime::parse_stat(stat), Some(CpuTime { seconds: 3.0 }));
        assert_eq!(CpuTime::parse_stat("4242 (short) S 1"), None);
        assert_eq!(CpuTime::parse_stat("garbage"), None);
    }

    #[test]
    fn cpu_per_unit_divides_the_difference() {
        let (before, after) = (CpuTime { seconds: 1.0 }, CpuTime { seconds: 3.0 });
        assert_eq!(before.ms_per(after, 1000), 2.0);
        assert_eq!(before.ms_per(after, 0), 2000.0, "no division by zero");
    }

    #[test]
    fn peak_rss_comes_from_vm_hwm() {
        let status =
            "Name:\tpushpull\nVmPeak:\t  900000 kB\nVmHWM:\t   51234 kB\nVmRSS:\t   40000 kB\n";
        assert_eq!(parse_peak_rss_kib(status), Some(51234));
        assert_eq!(parse_peak_rss_kib("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_can_be_measured() {
        let pid = std::process::id();
        assert!(CpuTime::of(pid).is_some());
        assert!(peak_rss_kib(pid).unwrap() > 0);
    }
}
