//! The optional configuration file, TOML, named by `--config PATH` or `TESSERA_CONFIG`. It
//! holds the same settings as the environment ([`SETTINGS`]), each
//! named in lower case without the `TESSERA_` prefix (`bind`, `database_url`,
//! `access_token_ttl`; `rust_log` for `RUST_LOG`), with a string, integer or boolean value:
//!
//! ```toml
//! bind = "0.0.0.0:5000"
//! issuer = "https://auth.example.com"
//! database_url = "postgres://tessera@db/tessera"
//! access_token_ttl = 900
//! require_par = true
//! ```
//!
//! A variable set in the environment wins over the file. An unknown key, a table or an array
//! is refused naming the key, so a misspelt setting never goes unnoticed.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::{ConfigError, SETTINGS};

/// The variable that names the file when `--config` is not given.
pub const CONFIG_VARIABLE: &str = "TESSERA_CONFIG";

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The process environment.
    Environment,
    /// The configuration file.
    File,
    /// Neither: the default applies.
    Default,
}

impl Source {
    /// `environment`, `file` or `default`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Environment => "environment",
            Self::File => "file",
            Self::Default => "default",
        }
    }
}

/// The settings a configuration file gives, by environment variable name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFile {
    values: BTreeMap<&'static str, String>,
}

/// The file key of a setting: `TESSERA_BIND` is `bind`, `RUST_LOG` is `rust_log`.
pub fn key_of(setting: &str) -> String {
    setting
        .strip_prefix("TESSERA_")
        .unwrap_or(setting)
        .to_ascii_lowercase()
}

impl ConfigFile {
    /// Reads and checks the file at `path`.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            ConfigError::new(
                CONFIG_VARIABLE,
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        Self::parse(&text).map_err(|message| {
            ConfigError::new(CONFIG_VARIABLE, format!("{}: {message}", path.display()))
        })
    }

    /// Parses the text of a configuration file; the error names the key at fault.
    pub fn parse(text: &str) -> Result<Self, String> {
        let table: toml::Table = text
            .parse()
            .map_err(|error: toml::de::Error| error.message().to_owned())?;
        let mut values = BTreeMap::new();
        for (key, value) in table {
            let setting = SETTINGS
                .iter()
                .find(|setting| key_of(setting) == key)
                .ok_or_else(|| format!("unknown setting {key:?}"))?;
            let value = match value {
                toml::Value::String(text) => text,
                toml::Value::Integer(number) => number.to_string(),
                toml::Value::Boolean(true) => "1".to_owned(),
                toml::Value::Boolean(false) => "0".to_owned(),
                _ => return Err(format!("{key} must be a string, an integer or a boolean")),
            };
            values.insert(*setting, value);
        }
        Ok(Self { values })
    }

    /// The file's value for the environment variable `setting`.
    pub fn get(&self, setting: &str) -> Option<&str> {
        self.values.get(setting).map(String::as_str)
    }
}

/// The environment and the file as one lookup, the environment winning; a variable set to
/// an empty value counts as unset.
#[derive(Debug, Clone, Default)]
pub struct Layered {
    file: ConfigFile,
}

impl Layered {
    /// The configuration file at `path` (`--config`), else the one `TESSERA_CONFIG` names,
    /// else none.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let from_variable = std::env::var(CONFIG_VARIABLE)
            .ok()
            .filter(|value| !value.trim().is_empty());
        let file = match path
            .map(Path::to_path_buf)
            .or_else(|| from_variable.map(Into::into))
        {
            Some(path) => ConfigFile::read(&path)?,
            None => ConfigFile::default(),
        };
        Ok(Self { file })
    }

    /// A file's settings under the process environment.
    pub fn over(file: ConfigFile) -> Self {
        Self { file }
    }

    /// The value of `setting` and where it came from.
    pub fn lookup(&self, setting: &str) -> (Option<String>, Source) {
        self.lookup_in(|name| std::env::var(name).ok(), setting)
    }

    /// [`Self::lookup`] with `environment` in place of the process environment.
    pub fn lookup_in(
        &self,
        environment: impl Fn(&str) -> Option<String>,
        setting: &str,
    ) -> (Option<String>, Source) {
        if let Some(value) = environment(setting).filter(|value| !value.trim().is_empty()) {
            return (Some(value), Source::Environment);
        }
        match self.file.get(setting) {
            Some(value) => (Some(value.to_owned()), Source::File),
            None => (None, Source::Default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_variables_in_lower_case_without_the_prefix() {
        assert_eq!(key_of("TESSERA_BIND"), "bind");
        assert_eq!(key_of("TESSERA_ACCESS_TOKEN_TTL"), "access_token_ttl");
        assert_eq!(key_of("RUST_LOG"), "rust_log");
    }

    #[test]
    fn strings_integers_and_booleans_become_the_variables_text() {
        let file = ConfigFile::parse(
            "bind = \"0.0.0.0:5000\"\naccess_token_ttl = 900\nrequire_par = true\n\
             pkce_allow_plain = false\nrust_log = \"debug\"\n",
        )
        .unwrap();
        assert_eq!(file.get("TESSERA_BIND"), Some("0.0.0.0:5000"));
        assert_eq!(file.get("TESSERA_ACCESS_TOKEN_TTL"), Some("900"));
        assert_eq!(file.get("TESSERA_REQUIRE_PAR"), Some("1"));
        assert_eq!(file.get("TESSERA_PKCE_ALLOW_PLAIN"), Some("0"));
        assert_eq!(file.get("RUST_LOG"), Some("debug"));
        assert_eq!(file.get("TESSERA_ISSUER"), None);
    }

    #[test]
    fn unknown_keys_tables_arrays_and_bad_syntax_are_refused_naming_the_key() {
        let unknown = ConfigFile::parse("bnid = \"x\"").unwrap_err();
        assert!(unknown.contains("\"bnid\""), "{unknown}");
        let prefixed = ConfigFile::parse("tessera_bind = \"x\"").unwrap_err();
        assert!(prefixed.contains("tessera_bind"), "{prefixed}");
        let table = ConfigFile::parse("[bind]\nhost = \"x\"").unwrap_err();
        assert!(table.contains("bind"), "{table}");
        let array = ConfigFile::parse("trusted_proxies = [\"10.0.0.1\"]").unwrap_err();
        assert!(array.contains("trusted_proxies"), "{array}");
        assert!(ConfigFile::parse("bind = ").is_err());
    }

    #[test]
    fn the_environment_wins_over_the_file_and_an_empty_variable_counts_as_unset() {
        let layered = Layered::over(
            ConfigFile::parse(
                "bind = \"0.0.0.0:5000\"\ncode_ttl = 60\nissuer = \"https://a.example\"",
            )
            .unwrap(),
        );
        let environment = |name: &str| match name {
            "TESSERA_BIND" => Some("127.0.0.1:7000".to_owned()),
            "TESSERA_CODE_TTL" => Some(" ".to_owned()),
            _ => None,
        };
        assert_eq!(
            layered.lookup_in(environment, "TESSERA_BIND"),
            (Some("127.0.0.1:7000".to_owned()), Source::Environment)
        );
        assert_eq!(
            layered.lookup_in(environment, "TESSERA_CODE_TTL"),
            (Some("60".to_owned()), Source::File)
        );
        assert_eq!(
            layered.lookup_in(environment, "TESSERA_WORKERS"),
            (None, Source::Default)
        );
        let config =
            crate::config::Config::from_lookup(|name| layered.lookup_in(environment, name).0)
                .unwrap();
        assert_eq!(config.bind, "127.0.0.1:7000");
        assert_eq!(config.issuer, "https://a.example");
        assert_eq!(config.policy.code_ttl, chrono::Duration::seconds(60));
    }

    #[test]
    fn a_missing_file_is_an_error_naming_the_variable_and_the_path() {
        let error = ConfigFile::read(Path::new("/nonexistent/tessera.toml")).unwrap_err();
        assert_eq!(error.variable, CONFIG_VARIABLE);
        assert!(
            error.message.contains("/nonexistent/tessera.toml"),
            "{error}"
        );
    }
}
