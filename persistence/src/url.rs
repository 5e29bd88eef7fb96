//! Which database to open: the only URL forms Tessera accepts, checked before anything connects,
//! so a mistyped setting stops start-up instead of silently creating a new SQLite file.

use std::fmt;
use std::str::FromStr;

/// The database engines Tessera runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// A SQLite file (WAL mode), for one process.
    Sqlite,
    /// A Postgres server, for any number of processes.
    Postgres,
}

/// A database URL that passed [`DatabaseUrl::parse`]. `Display` and `Debug` hide a Postgres
/// password, so it may be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(Target);

#[derive(Clone, PartialEq, Eq)]
enum Target {
    /// A file path, relative to the working directory or absolute.
    Sqlite(String),
    /// The whole URL, handed to libpq as it is.
    Postgres(String),
}

/// Why a database URL was refused. Its `Display` is one line that says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Nothing was given.
    #[error("the database URL is empty; expected {EXPECTED}")]
    Empty,
    /// No `scheme:` in front, such as a bare file name.
    #[error("the database URL has no scheme; expected {EXPECTED}")]
    MissingScheme,
    /// A scheme other than `sqlite`, `postgres` or `postgresql`.
    #[error("the database URL scheme {0:?} is not supported; expected {EXPECTED}")]
    UnsupportedScheme(String),
    /// A known scheme not followed by `//`, such as `sqlite:tessera.db`.
    #[error("the database URL must start with \"{0}://\"; expected {EXPECTED}")]
    MissingSlashes(String),
    /// `sqlite://` with no file name.
    #[error(
        "the SQLite URL names no file; expected sqlite://relative/path or sqlite:///absolute/path"
    )]
    EmptySqlitePath,
    /// `:memory:` or a SQLite `file:` URI, which would give each pooled connection its own
    /// database or options Tessera does not manage.
    #[error("the SQLite URL must name a plain file (in-memory databases and file: URIs are not supported), e.g. sqlite://tessera.db")]
    UnsupportedSqlitePath,
}

const EXPECTED: &str =
    "sqlite://relative/path, sqlite:///absolute/path or postgres://user@host/database";

impl DatabaseUrl {
    /// Accepts `sqlite://relative/path`, `sqlite:///absolute/path`, `postgres://...` and
    /// `postgresql://...`; refuses everything else, including in-memory SQLite.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Err(ConfigError::Empty);
        }
        let Some((scheme, rest)) = text.split_once(':').filter(|(scheme, _)| is_scheme(scheme))
        else {
            return Err(ConfigError::MissingScheme);
        };
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "sqlite" | "postgres" | "postgresql") {
            return Err(ConfigError::UnsupportedScheme(printable_scheme(&scheme)));
        }
        let Some(rest) = rest.strip_prefix("//") else {
            if scheme == "sqlite" && rest.starts_with(":memory:") {
                return Err(ConfigError::UnsupportedSqlitePath);
            }
            return Err(ConfigError::MissingSlashes(scheme));
        };
        if scheme != "sqlite" {
            return Ok(Self(Target::Postgres(text.to_owned())));
        }
        if rest.is_empty() || rest == "/" {
            return Err(ConfigError::EmptySqlitePath);
        }
        // `rest` is `relative/path` or `/absolute/path`, the form SQLite opens as a file.
        if rest.starts_with(':')
            || rest.to_ascii_lowercase().starts_with("file:")
            || rest.contains('\0')
        {
            return Err(ConfigError::UnsupportedSqlitePath);
        }
        Ok(Self(Target::Sqlite(rest.to_owned())))
    }

    /// Which engine the URL names.
    pub fn backend(&self) -> Backend {
        match self.0 {
            Target::Sqlite(_) => Backend::Sqlite,
            Target::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite file's path as given (relative to the working directory unless absolute);
    /// `None` for Postgres.
    pub fn sqlite_path(&self) -> Option<&str> {
        match &self.0 {
            Target::Sqlite(path) => Some(path),
            Target::Postgres(_) => None,
        }
    }

    /// The one TCP port a Postgres URL connects to (libpq's default 5432 when it names
    /// none); `None` for SQLite, for several hosts, and when the query sets the host, the
    /// port or a service (which may name anything).
    pub(crate) fn postgres_port(&self) -> Option<u16> {
        let Target::Postgres(url) = &self.0 else {
            return None;
        };
        let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let query = tail.split_once('?').map_or("", |(_, query)| query);
        let overridden = query.split('&').any(|pair| {
            matches!(
                pair.split('=').next(),
                Some("host" | "hostaddr" | "port" | "service")
            )
        });
        let host_port = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        if overridden || host_port.contains(',') {
            return None;
        }
        // `[::1]:5433`, `db:5433`, `db` or `[::1]`.
        let port = match host_port.strip_prefix('[') {
            Some(bracketed) => bracketed.split_once("]:").map(|(_, port)| port),
            None => host_port.rsplit_once(':').map(|(_, port)| port),
        };
        match port {
            None | Some("") => Some(5432),
            Some(port) => port.parse().ok(),
        }
    }

    /// What to hand to Diesel's `establish` (contains the password, if any: never log it).
    pub(crate) fn connection_string(&self) -> &str {
        match &self.0 {
            Target::Sqlite(path) | Target::Postgres(path) => path,
        }
    }
}

/// RFC 3986 §3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The scheme for an error message, cut short so a pasted secret is not echoed whole.
fn printable_scheme(scheme: &str) -> String {
    scheme
        .chars()
        .take(20)
        .filter(|c| !c.is_control())
        .collect()
}

impl FromStr for DatabaseUrl {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Target::Sqlite(path) => write!(f, "sqlite://{path}"),
            Target::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// `postgres://user:secret@host/db` becomes `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_a_relative_or_absolute_file() {
        let relative = DatabaseUrl::parse("sqlite://data/tessera.db").unwrap();
        assert_eq!(relative.backend(), Backend::Sqlite);
        assert_eq!(relative.sqlite_path(), Some("data/tessera.db"));
        let absolute = DatabaseUrl::parse("sqlite:///var/lib/tessera.db").unwrap();
        assert_eq!(absolute.sqlite_path(), Some("/var/lib/tessera.db"));
        assert_eq!(absolute.to_string(), "sqlite:///var/lib/tessera.db");
    }

    #[test]
    fn postgres_urls_are_kept_whole_and_shown_without_password() {
        for text in [
            "postgres://u:pw@db:5432/tessera",
            "postgresql://u:pw@db/tessera?sslmode=require",
        ] {
            let url = DatabaseUrl::parse(text).unwrap();
            assert_eq!(url.backend(), Backend::Postgres);
            assert_eq!(url.connection_string(), text);
            assert!(!url.to_string().contains("pw"), "{url}");
            assert!(!format!("{url:?}").contains("pw"));
        }
        let plain = DatabaseUrl::parse("postgres://postgres@127.0.0.1/postgres").unwrap();
        assert_eq!(plain.to_string(), "postgres://postgres@127.0.0.1/postgres");
    }

    #[test]
    fn the_postgres_port_is_the_one_the_url_names() {
        let port = |text: &str| DatabaseUrl::parse(text).unwrap().postgres_port();
        assert_eq!(port("postgres://u:p@db:5433/tessera"), Some(5433));
        assert_eq!(port("postgres://u@db/tessera?sslmode=require"), Some(5432));
        assert_eq!(port("postgresql://[::1]:6000/t"), Some(6000));
        assert_eq!(port("postgresql://[::1]/t"), Some(5432));
        assert_eq!(port("postgres://u@a:1,b:2/t"), None);
        assert_eq!(port("postgres:///t?host=/var/run/postgresql"), None);
        assert_eq!(port("postgres://db/t?port=7000"), None);
        assert_eq!(port("sqlite://tessera.db"), None);
    }

    #[test]
    fn anything_else_is_refused_with_one_line() {
        let cases = [
            ("", ConfigError::Empty),
            ("tessera.db", ConfigError::MissingScheme),
            ("/var/lib/tessera.db", ConfigError::MissingScheme),
            (
                "mysql://root@db/x",
                ConfigError::UnsupportedScheme("mysql".into()),
            ),
            (
                "sqlite:tessera.db",
                ConfigError::MissingSlashes("sqlite".into()),
            ),
            (
                "postgres:db",
                ConfigError::MissingSlashes("postgres".into()),
            ),
            ("sqlite://", ConfigError::EmptySqlitePath),
            ("sqlite:///", ConfigError::EmptySqlitePath),
            ("sqlite://:memory:", ConfigError::UnsupportedSqlitePath),
            ("sqlite::memory:", ConfigError::UnsupportedSqlitePath),
            (":memory:", ConfigError::MissingScheme),
            (
                "sqlite://file:x.db?mode=memory",
                ConfigError::UnsupportedSqlitePath,
            ),
        ];
        for (text, expected) in cases {
            let error = DatabaseUrl::parse(text).unwrap_err();
            assert_eq!(error, expected, "{text:?}");
            assert!(!error.to_string().contains('\n'));
        }
    }
}
