//! What the fuzz targets share: running a decoder to completion, and the invariants every
//! decoded body keeps.

use std::future::Future;
use std::sync::LazyLock;

use tessera_domain::Params;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime builds")
});

/// Runs `future` to completion on a single-threaded runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.block_on(future)
}

/// The bytes of every decoded name and value; decoding never gives back more than it read.
pub fn decoded_bytes(params: &Params) -> usize {
    params
        .pairs()
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .sum()
}

/// Asserts that no decoded name or value holds a NUL character.
pub fn assert_no_nul(params: &Params) {
    for (name, value) in params.pairs() {
        assert!(
            !name.contains('\0') && !value.contains('\0'),
            "NUL in {name:?}={value:?}"
        );
    }
}

/// `pairs` as an `application/x-www-form-urlencoded` body.
pub fn encode_form(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `fields` as a `multipart/form-data` body of text fields.
pub fn encode_multipart(boundary: &str, fields: &[(String, String)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}
