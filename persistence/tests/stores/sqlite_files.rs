//! The SQLite file and its `-wal` and `-shm` are private to the server's user (mode 0600).

#![cfg(unix)]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a helper that cannot open the database fails the test"
)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use tessera_domain::store::UserStore as _;
use tessera_persistence::{Database, DatabaseUrl, PoolOptions};

use crate::fixtures::user;

/// The database file in `directory` and its two companions.
fn files(directory: &Path) -> [PathBuf; 3] {
    ["tessera.db", "tessera.db-wal", "tessera.db-shm"].map(|name| directory.join(name))
}

fn open(directory: &Path) -> Database {
    let url = DatabaseUrl::parse(&format!("sqlite://{}/tessera.db", directory.display())).unwrap();
    let database = Database::connect(&url, PoolOptions::default()).unwrap();
    database.migrate().unwrap();
    database
}

/// Asserts every file exists with mode 0600.
fn assert_private(directory: &Path, when: &str) {
    for file in files(directory) {
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|error| panic!("{} {when}: {error}", file.display()))
            .permissions()
            .mode();
        assert_eq!(
            format!("{:o}", mode & 0o777),
            "600",
            "{} {when}",
            file.display()
        );
    }
}

#[test]
fn a_new_sqlite_database_and_its_wal_files_are_created_private() {
    let directory = tempfile::tempdir().unwrap();
    let database = open(directory.path());
    assert_private(directory.path(), "after opening and migrating");
    database.insert_user(&user("alice")).unwrap();
    assert_private(directory.path(), "after a write");
    // Another process opening the same files finds them private too.
    let again = open(directory.path());
    again.insert_user(&user("bob")).unwrap();
    assert_private(directory.path(), "after a second pool wrote");
}

#[test]
fn sqlite_files_readable_by_others_are_made_private_on_opening() {
    let directory = tempfile::tempdir().unwrap();
    drop(open(directory.path()));
    let [main, ..] = files(directory.path());
    std::fs::set_permissions(&main, std::fs::Permissions::from_mode(0o644)).unwrap();
    let database = open(directory.path());
    assert_private(directory.path(), "after opening a file that was 0644");
    for file in files(directory.path()).iter().skip(1) {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    // Opening the database again puts them right.
    let second = open(directory.path());
    second.insert_user(&user("alice")).unwrap();
    assert_private(directory.path(), "after opening with companions at 0666");
    assert!(database.find_user_by_name("alice").unwrap().is_some());
}
