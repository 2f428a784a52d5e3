//! Tracing setup: level from LOG_LEVEL unless RUST_LOG is set, pretty or
//! JSON lines, to stderr and, when LOG_FILE is set, appended to that file
//! (created 0600).
//!
//! Every line passes through the process-wide [`Redactor`] on its way out,
//! whatever library wrote it: configured secrets (any case, percent-encoded)
//! and URL credentials never reach stderr or the file. Panics are logged
//! through the same path instead of printed raw. Some targets are capped
//! whatever the level: `notify` logs every file event in the config file's
//! directory, so a log file there would feed itself; serenity, poise and the
//! WebSocket crates log gateway payloads (message text) below WARN, so they
//! stay at WARN unless `LOG_MESSAGE_CONTENT=true` or RUST_LOG names them.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{Config, LogFormat, schema};
use crate::secret::{Redactor, Secret};

/// Targets capped at a level whatever LOG_LEVEL says: they would log every
/// write of a log file that sits next to the config file.
const FEEDBACK_TARGETS: &[(&str, &str)] = &[("notify", "info"), ("inotify", "info")];
/// Targets that log raw gateway payloads (message text) below WARN.
const CONTENT_TARGETS: &[&str] = &[
    "serenity",
    "poise",
    "tungstenite",
    "tokio_tungstenite",
    "async_tungstenite",
];

/// What every log line is cleaned with; grows with each configuration.
static REDACTOR: LazyLock<RwLock<Redactor>> = LazyLock::new(RwLock::default);

/// Adds `secrets` to what log lines are cleaned of (old secrets stay: a
/// reload may change a key while errors about the old one are still logged).
pub fn redact(secrets: impl IntoIterator<Item = Secret>) {
    let added = Redactor::new(secrets);
    let mut current = REDACTOR.write().unwrap_or_else(|e| e.into_inner());
    *current = current.merged(&added);
}

fn redactor() -> Redactor {
    REDACTOR.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// `text` cleaned like a log line, for messages printed outside the log
/// (the last words of a command on stderr).
pub fn redacted(text: &str) -> String {
    redactor().clean(text)
}

/// Every secret key's value in `config` (the keys the schema marks secret).
pub fn secrets_of(config: &Config) -> Vec<Secret> {
    schema::KEYS
        .iter()
        .filter(|spec| spec.secret)
        .filter_map(|spec| config.resolved.get(&(spec.section, spec.key)))
        .map(|resolved| Secret::new(resolved.value.clone()))
        .collect()
}

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
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Writes each log line, redacted, to stderr and to the log file.
pub struct TeeWriter {
    file: LogFile,
}

impl Write for TeeWriter {
    /// The formatter hands over one whole line per call, so a secret is
    /// never split across two calls.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let clean = redactor().clean(&String::from_utf8_lossy(buf));
        let buf_len = buf.len();
        let buf = clean.as_bytes();
        io::stderr().write_all(buf)?;
        let mut guard = self.file.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, file)) = guard.as_mut() {
            // A full disk must not take the bot down; stderr still has the line.
            let _ = file.write_all(buf);
        }
        Ok(buf_len)
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

/// Installs the global subscriber and the panic hook, and redacts the
/// configuration's secrets. `rust_log` is the RUST_LOG variable, which wins
/// over LOG_LEVEL.
pub fn init(config: &Config, rust_log: Option<&str>) -> io::Result<LogFile> {
    redact(secrets_of(config));
    let logging = &config.logging;
    let filter = EnvFilter::try_new(directives(logging.level, rust_log, logging.message_content))
        .unwrap_or_else(|_| {
            EnvFilter::new(directives(logging.level, None, logging.message_content))
        });
    let file = match &logging.file {
        Some(path) => LogFile::open(path)?,
        None => LogFile::default(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(file.clone())
        .with_ansi(logging.file.is_none() && io::IsTerminal::is_terminal(&io::stderr()));
    let result = match logging.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    // A second init (tests) keeps the first subscriber and its panic hook.
    if result.is_ok() {
        log_panics();
    }
    Ok(file)
}

/// The filter: RUST_LOG (when valid) or LOG_LEVEL with quiet HTTP crates,
/// then the caps of the module doc for every target RUST_LOG does not name.
fn directives(level: &str, rust_log: Option<&str>, message_content: bool) -> String {
    let valid = rust_log.filter(|d| EnvFilter::try_new(d).is_ok());
    let mut out = match valid {
        Some(directives) => directives.to_string(),
        None => format!("{level},serenity=warn,h2=warn,hyper=warn"),
    };
    let named = |target: &str| {
        valid.is_some_and(|d| d.split(',').any(|part| part.trim().starts_with(target)))
    };
    let content_caps = CONTENT_TARGETS
        .iter()
        .filter(|_| !message_content)
        .map(|target| (*target, "warn"));
    for (target, cap) in FEEDBACK_TARGETS.iter().copied().chain(content_caps) {
        if !named(target) {
            out.push_str(&format!(",{target}={cap}"));
        }
    }
    out
}

/// Panics (in any task or thread) are logged at ERROR through the redacting
/// writer instead of printed raw: a panic message may hold a secret.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_string();
        tracing::error!(target: "duet::panic", %location, thread, "panicked: {payload}");
    }));
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

    #[test]
    fn a_new_log_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("duet.log");
        LogFile::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn every_line_written_is_redacted_whatever_wrote_it() {
        redact([Secret::new("sk-writer-TEST-key")]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("duet.log");
        let file = LogFile::open(&path).unwrap();
        file.make_writer()
            .write_all(b"echo SK-WRITER-test-KEY and sk%2Dwriter%2Dtest%2Dkey via http://u:p@h\n")
            .unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            written,
            "echo [redacted] and [redacted] via http://[redacted]@h\n"
        );
    }

    #[test]
    fn the_file_watcher_and_gateway_payloads_are_capped_whatever_the_level() {
        let quiet = directives("trace", None, false);
        assert!(quiet.starts_with("trace,serenity=warn"), "{quiet}");
        assert!(
            quiet.contains("notify=info") && quiet.contains("poise=warn"),
            "{quiet}"
        );
        let opted_in = directives("trace", None, true);
        assert!(!opted_in.contains("poise="), "{opted_in}");
        assert!(opted_in.contains("notify=info"), "{opted_in}");
        let rust_log = directives("info", Some("trace"), false);
        assert!(rust_log.starts_with("trace,notify=info"), "{rust_log}");
        assert!(rust_log.contains("serenity=warn"), "{rust_log}");
        let named = directives("info", Some("debug,serenity=trace"), false);
        assert!(
            !named.contains("serenity=warn"),
            "RUST_LOG names it: {named}"
        );
        let invalid = directives("warn", Some("=[garbage"), false);
        assert!(invalid.starts_with("warn,serenity=warn"), "{invalid}");
    }
}
