//! A boundary and any bytes through the multipart decoder, within its 64 KiB body limit: no
//! panic; a refusal is 400 or 413, and always 413 beyond the limit; what decodes has at most
//! the field limit, no NUL, no more bytes than were sent, and (for plain boundaries and
//! names) re-encodes to the same fields.
//!
//! Input: one byte whose low 6 bits are the boundary's length and whose top bit chooses a
//! quoted `boundary="..."`, then the boundary, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_fuzz::{assert_no_nul, block_on, decoded_bytes, encode_multipart};
use tessera_web::params::{decode_body, BODY_LIMIT, MULTIPART_FIELD_LIMIT};

/// RFC 2046 §5.1.1 boundary characters, without the space.
fn is_plain_boundary(boundary: &str) -> bool {
    !boundary.is_empty()
        && boundary
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&b))
}

fn is_plain_name(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

fuzz_target!(|input: &[u8]| {
    let Some((&header, rest)) = input.split_first() else {
        return;
    };
    let length = usize::from(header & 0x3f).min(rest.len());
    let (boundary, body) = rest.split_at(length);
    let boundary = String::from_utf8_lossy(boundary);
    let content_type = if header & 0x80 != 0 {
        format!("multipart/form-data; boundary=\"{boundary}\"")
    } else {
        format!("multipart/form-data; boundary={boundary}")
    };

    let params = match block_on(decode_body(&content_type, body)) {
        Ok(params) => params,
        Err(error) => {
            let status = error.status.as_u16();
            assert!([400, 413].contains(&status), "{status} {error}");
            assert!(
                body.len() <= BODY_LIMIT || status == 413,
                "{status} {error}"
            );
            return;
        }
    };

    assert!(body.len() <= BODY_LIMIT);
    assert!(params.pairs().len() <= MULTIPART_FIELD_LIMIT);
    assert!(decoded_bytes(&params) <= body.len());
    assert_no_nul(&params);
    if is_plain_boundary(&boundary)
        && !params.pairs().is_empty()
        && params.pairs().iter().all(|(name, _)| is_plain_name(name))
    {
        let quoted = format!("multipart/form-data; boundary=\"{boundary}\"");
        let again = block_on(decode_body(
            &quoted,
            &encode_multipart(&boundary, params.pairs()),
        ))
        .expect("re-encoded fields decode");
        assert_eq!(again, params);
    }
});
