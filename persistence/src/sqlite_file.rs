//! The SQLite file and its `-wal` and `-shm` companions are private to the server's user
//! (mode 0600 on unix): they hold password hashes, token digests and, without
//! `TESSERA_SECRET_KEY`, the cookie key.
//!
//! SQLite creates a new database with the process umask (often 0644), so a missing file is
//! created here first, with mode 0600, before SQLite opens it. SQLite gives the `-wal` and
//! `-shm` files the mode of the database file; after each connection is set up, any group or
//! other permission left on the three files (a file made by an older version, or copied in)
//! is removed as well. On other platforms the files keep what the platform gives them.

use std::io;
use std::path::{Path, PathBuf};

/// The suffixes of the files SQLite keeps next to a database in WAL mode.
const COMPANIONS: [&str; 2] = ["-wal", "-shm"];

/// Creates the empty database file `path` with mode 0600 unless it exists. SQLite treats
/// an empty file as a new database.
pub(crate) fn create_private(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => {
            tracing::info!(path = %path.display(), "created the SQLite file");
            Ok(())
        }
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// Removes group and other permissions from `path` and its `-wal` and `-shm` files, where
/// they exist. A file that cannot be changed (another owner) is logged, not an error: the
/// database still works.
pub(crate) fn keep_private(path: &Path) {
    for file in files(path) {
        if let Err(error) = restrict(&file) {
            tracing::warn!(path = %file.display(), %error, "cannot make the SQLite file private (mode 0600)");
        }
    }
}

/// The database file and its companions.
fn files(path: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    let companions = COMPANIONS.iter().map(move |suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    });
    std::iter::once(path.to_path_buf()).chain(companions)
}

/// Takes away group and other permissions from `file` if it has any; a missing file is fine.
#[cfg(unix)]
fn restrict(file: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;

    let mode = match std::fs::metadata(file) {
        Ok(metadata) => metadata.permissions().mode(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    if mode & 0o077 == 0 {
        return Ok(());
    }
    match std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode & 0o700)) {
        Ok(()) => {}
        // SQLite removed a companion file meanwhile.
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    }
    tracing::warn!(
        path = %file.display(),
        was = format_args!("{:o}", mode & 0o777),
        now = format_args!("{:o}", mode & 0o700),
        "the SQLite file was readable by other users; made it private"
    );
    Ok(())
}

/// Other platforms have no unix modes to restrict.
#[cfg(not(unix))]
fn restrict(_file: &Path) -> io::Result<()> {
    Ok(())
}
