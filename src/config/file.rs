//! Reading the configuration file safely: it must be a regular file of at
//! most [`MAX_CONFIG_BYTES`], checked before it is opened (so a FIFO cannot
//! block and `/dev/zero` cannot fill memory), opened non-blocking, checked
//! again on the open handle, and read with a cap. Text that is not UTF-8 is
//! an error naming the line where it stops being text.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::issue::{ConfigErrors, ConfigIssue};

/// The largest configuration file duet reads: 1 MiB.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The file's bytes, or the reason it cannot be a configuration file.
pub fn read_config_file(path: &Path) -> Result<Vec<u8>, ConfigErrors> {
    let fail = |reason: String| {
        ConfigErrors(vec![ConfigIssue::general(format!(
            "cannot read config file {}: {reason}",
            path.display()
        ))])
    };
    let metadata = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    check_metadata(&metadata).map_err(fail)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| fail(e.to_string()))?;
    // The path may have been swapped between the two looks; trust the handle.
    let metadata = file.metadata().map_err(|e| fail(e.to_string()))?;
    check_metadata(&metadata).map_err(fail)?;
    read_capped(file).map_err(fail)
}

fn check_metadata(metadata: &std::fs::Metadata) -> Result<(), String> {
    if !metadata.is_file() {
        return Err(format!(
            "not a regular file (it is {}); point --config at an INI file",
            file_type_name(metadata)
        ));
    }
    if metadata.len() > MAX_CONFIG_BYTES {
        return Err(too_large());
    }
    Ok(())
}

fn too_large() -> String {
    format!("larger than {MAX_CONFIG_BYTES} bytes (1 MiB); a configuration file is a few kilobytes")
}

fn read_capped(file: File) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

fn file_type_name(metadata: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// `bytes` as text; invalid UTF-8 is an error on the line where it starts.
pub fn decode<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str, ConfigErrors> {
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = &bytes[..error.valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        ConfigErrors(vec![ConfigIssue::syntax(
            path,
            line,
            "this line is not valid UTF-8 text; save the file as UTF-8".to_string(),
        )])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_device_is_refused_before_it_is_read() {
        let issue = read_config_file(Path::new("/dev/zero")).expect_err("not a file");
        assert!(
            issue
                .to_string()
                .contains("not a regular file (it is a character device)"),
            "{issue}"
        );
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config.ini");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo reads a valid NUL-terminated path and touches nothing else.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let issue = read_config_file(&fifo).expect_err("not a file");
        assert!(issue.to_string().contains("it is a FIFO"), "{issue}");
    }

    #[test]
    fn a_file_over_one_mebibyte_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("config.ini");
        std::fs::write(&big, vec![b'#'; MAX_CONFIG_BYTES as usize + 1]).unwrap();
        let issue = read_config_file(&big).expect_err("too large");
        assert!(
            issue.to_string().contains("larger than 1048576 bytes"),
            "{issue}"
        );
        std::fs::write(&big, vec![b'#'; MAX_CONFIG_BYTES as usize]).unwrap();
        assert!(read_config_file(&big).is_ok(), "exactly 1 MiB is accepted");
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let issue = decode(b"[Limits]\nRATE_LIMIT = 1\nX = \xff\n", Path::new("c.ini"))
            .expect_err("not UTF-8");
        assert!(issue.0[0].to_string().starts_with("c.ini:3 "), "{issue}");
    }
}
