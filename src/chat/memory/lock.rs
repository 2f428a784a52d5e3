//! One writer per SQLite file: an exclusive `flock` on `<database>.lock`
//! (beside the database, holding the holder's pid), taken before the
//! database is opened and held until the store closes. Two processes on one
//! file would each trust their own hot cache, so `/forget` in one would
//! leave the turns in the other's cache and send them to a provider again.
//! The kernel drops the lock when the holder dies, so a crash never leaves
//! a stale lock behind; the file stays and is reused.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::error::MemoryError;

/// Held while the database is open; dropping it releases the lock.
#[derive(Debug)]
pub(super) struct DatabaseLock {
    _file: File,
}

/// `<database>.lock`.
pub(super) fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl DatabaseLock {
    /// Takes the lock or says who holds it. The database's directory must exist.
    pub(super) fn acquire(database: &Path) -> Result<Self, MemoryError> {
        let path = lock_path(database);
        let io = |source| MemoryError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(MemoryError::Locked {
                    database: database.to_path_buf(),
                    holder: holder_pid(&mut file),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Self { _file: file })
    }
}

/// The pid the holder wrote (it may still be writing it: then unknown).
fn holder_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_database_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("duet.db");
        let held = DatabaseLock::acquire(&database).unwrap();
        let refused = DatabaseLock::acquire(&database).unwrap_err();
        let pid = std::process::id();
        assert!(
            matches!(refused, MemoryError::Locked { holder: Some(p), .. } if p == pid),
            "{refused:?}"
        );
        let message = refused.to_string();
        assert!(message.contains(&format!("pid {pid}")), "{message}");
        assert!(message.contains("duet.db"), "{message}");

        drop(held);
        DatabaseLock::acquire(&database).expect("free again once the holder let go");
        assert_eq!(
            lock_path(&database),
            dir.path().join("duet.db.lock"),
            "beside the database"
        );
    }
}
