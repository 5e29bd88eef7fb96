//! The process's log: `tracing` events filtered by `RUST_LOG`, written to stderr, one line
//! each, as text or as JSON ([`LogFormat`], `TESSERA_LOG_FORMAT`).
//!
//! Each request's events run inside its `request` span, which carries the request id, the
//! method and the route pattern ([`crate::access_log`]); JSON lines put the span's fields
//! under `span`, text lines before the message. Nothing secret is logged anywhere: no
//! passwords, client secrets, codes, tokens, cookies, query strings or bodies.

use std::io::IsTerminal as _;

use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// How log lines are written (`TESSERA_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines: time, level, span fields, target, message and fields; coloured
    /// on a terminal.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, the event's fields with
    /// `message`, and `span` for the request's span), for log collectors.
    Json,
}

impl LogFormat {
    /// `text` or `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
    }

    /// `text` or `json`, in any case and with spaces around; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" => Some(Self::Text),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The format when none is configured: text for a person at a terminal, JSON for
    /// whatever collects the log otherwise.
    pub fn for_stderr(is_terminal: bool) -> Self {
        if is_terminal {
            Self::Text
        } else {
            Self::Json
        }
    }
}

/// Installs the global subscriber: `config.log_filter` (`RUST_LOG`) as the filter, stderr as
/// the writer, `config.log_format` or else [`LogFormat::for_stderr`] as the format, and the
/// `log` bridge for the crates that log through `log`. A second call (only possible in
/// tests) keeps the first subscriber. A filter that does not parse is an error naming
/// `RUST_LOG`.
pub fn init(config: &Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.log_filter)
        .map_err(|error| anyhow::anyhow!("RUST_LOG: {error}"))?;
    let terminal = std::io::stderr().is_terminal();
    let format = config
        .log_format
        .unwrap_or_else(|| LogFormat::for_stderr(terminal));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (only possible in tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(terminal).finish().try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .try_init(),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The format's parsing and default, and initialisation twice.

    use std::collections::HashMap;

    use super::*;

    #[test]
    fn text_and_json_are_read_in_any_case_and_nothing_else() {
        assert_eq!(LogFormat::parse("text"), Some(LogFormat::Text));
        assert_eq!(LogFormat::parse(" JSON "), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse("Json"), Some(LogFormat::Json));
        for other in ["", "logfmt", "plain", "jsonl", "text json"] {
            assert_eq!(LogFormat::parse(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_terminal_gets_text_and_anything_else_json() {
        assert_eq!(LogFormat::for_stderr(true), LogFormat::Text);
        assert_eq!(LogFormat::for_stderr(false), LogFormat::Json);
    }

    #[test]
    fn a_second_initialisation_keeps_the_first_and_a_bad_filter_names_rust_log() {
        let config = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            Config::from_lookup(|name| map.get(name).cloned()).unwrap()
        };
        init(&config(&[("TESSERA_LOG_FORMAT", "json")])).unwrap();
        init(&config(&[("TESSERA_LOG_FORMAT", "text")])).unwrap();
        let error = init(&config(&[("RUST_LOG", "info,[unclosed")])).unwrap_err();
        assert!(error.to_string().starts_with("RUST_LOG: "), "{error}");
    }
}
