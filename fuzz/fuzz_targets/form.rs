//! Any bytes through the url-encoded decoder, as a query string or a `POST` body: no panic;
//! a refusal is 400 (413 beyond the body limit); what decodes has one pair per non-empty
//! `&`-separated part, holds no more bytes than were sent, and re-encodes to the same pairs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_fuzz::{assert_no_nul, block_on, decoded_bytes, encode_form};
use tessera_web::params::{decode_body, parse_urlencoded, BODY_LIMIT};

fuzz_target!(|body: &[u8]| {
    let as_body = block_on(decode_body("application/x-www-form-urlencoded", body));
    let params = match parse_urlencoded(body) {
        Ok(params) => params,
        Err(error) => {
            assert_eq!(error.status.as_u16(), 400, "{error}");
            let refused = as_body.expect_err("a body the decoder refuses is refused");
            assert!([400, 413].contains(&refused.status.as_u16()), "{refused}");
            return;
        }
    };

    let parts = body.split(|&b| b == b'&').filter(|p| !p.is_empty()).count();
    assert_eq!(params.pairs().len(), parts);
    assert!(decoded_bytes(&params) <= body.len());
    let again =
        parse_urlencoded(encode_form(params.pairs()).as_bytes()).expect("an encoded form decodes");
    assert_eq!(again, params);

    let has_nul = params
        .pairs()
        .iter()
        .any(|(name, value)| name.contains('\0') || value.contains('\0'));
    match as_body {
        Ok(decoded) => {
            assert!(body.len() <= BODY_LIMIT);
            assert_no_nul(&decoded);
            assert_eq!(decoded, params);
        }
        Err(error) if body.len() > BODY_LIMIT => assert_eq!(error.status.as_u16(), 413),
        Err(error) => assert!(has_nul && error.status.as_u16() == 400, "{error}"),
    }
});
