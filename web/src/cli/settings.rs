//! `tessera config`: every setting's effective value and where it came from, the
//! environment, the configuration file or the default; secrets masked.

use std::path::Path;

use serde_json::{json, Map};

use crate::config::Config;
use crate::config_file::Layered;

/// Prints the settings as `NAME=value (source)` lines, or as one JSON object.
pub(super) fn show(config_file: Option<&Path>, as_json: bool) -> anyhow::Result<()> {
    let layered = Layered::load(config_file)?;
    let config = Config::from_lookup(|name| layered.lookup(name).0)?;
    let settings = config.effective_settings();
    if as_json {
        let mut object = Map::new();
        for (name, value) in settings {
            let source = layered.lookup(name).1.as_str();
            object.insert(name.to_owned(), json!({ "value": value, "source": source }));
        }
        println!("{}", serde_json::to_string_pretty(&object)?);
    } else {
        for (name, value) in settings {
            println!("{name}={value} ({})", layered.lookup(name).1.as_str());
        }
    }
    Ok(())
}
