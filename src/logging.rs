//! Tracing setup: level from LOG_LEVEL unless RUST_LOG is set, pretty or
//! JSON lines, to stderr and, when LOG_FILE is set, appended to that file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{LogFormat, LoggingConfig};

/// Handle to the log file, so it can be reopened after logrotate moved it.
#[derive(Clone, Default)]
pub struct LogFile {
    inner: Arc<Mutex<Option<(PathBuf, File)>>>,
}

impl LogFile {
    fn open(path: &Path) -> io::Result<Self> {
        let file = open_append(path)?;
        Ok(Self {
            inner: Arc::new(Mutex::new(Some((path.to_path_buf(), file)))),
        })
    }

    /// Reopens the file at its path (after SIGHUP), keeping the old handle on failure.
    pub fn reopen(&self) -> io::Result<()> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((path, file)) = guard.as_mut() {
            *file = open_append(path)?;
        }
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

/// Writes each log line to stderr and to the log file.
pub struct TeeWriter {
    file: LogFile,
}

impl Write for TeeWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::stderr().write_all(buf)?;
        let mut guard = self.file.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, file)) = guard.as_mut() {
            // A full disk must not take the bot down; stderr still has the line.
            let _ = file.write_all(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for LogFile {
    type Writer = TeeWriter;

    fn make_writer(&'a self) -> Self::Writer {
        TeeWriter { file: self.clone() }
    }
}

/// Installs the global subscriber. `rust_log` is the RUST_LOG variable, which wins over LOG_LEVEL.
pub fn init(config: &LoggingConfig, rust_log: Option<&str>) -> io::Result<LogFile> {
    let filter = rust_log
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| {
            EnvFilter::new(format!("{},serenity=warn,h2=warn,hyper=warn", config.level))
        });
    let file = match &config.file {
        Some(path) => LogFile::open(path)?,
        None => LogFile::default(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(file.clone())
        .with_ansi(config.file.is_none() && io::IsTerminal::is_terminal(&io::stderr()));
    let result = match config.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    drop(result);
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_appended_to_the_file_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/duet.log");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "earlier line\n").unwrap();
        let file = LogFile::open(&path).unwrap();
        file.make_writer().write_all(b"first\n").unwrap();
        // logrotate moves the file away; SIGHUP makes duet reopen the path.
        std::fs::rename(&path, dir.path().join("logs/duet.log.1")).unwrap();
        file.reopen().unwrap();
        file.make_writer().write_all(b"second\n").unwrap();
        let rotated = std::fs::read_to_string(dir.path().join("logs/duet.log.1")).unwrap();
        assert_eq!(rotated, "earlier line\nfirst\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second\n");
    }
}
