//! Properties of the request body decoders over generated input: url-encoded forms and
//! multipart text fields round-trip, invalid UTF-8 is refused, the field and size limits
//! hold, and no input makes a decoder panic or give back more than it was sent.

#![expect(clippy::expect_used, reason = "a failed step fails the test")]

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use tessera_domain::Params;
use tessera_web::params::{
    decode_body, parse_urlencoded, MalformedParams, BODY_LIMIT, MULTIPART_FIELD_LIMIT,
};

const FORM: &str = "application/x-www-form-urlencoded";

/// Enough cases to cover the grammars, few enough that the whole file runs in seconds; a
/// failing case is saved beside this file and tried first on the next run.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime builds");
}

/// [`decode_body`], run to completion.
fn decode(content_type: &str, body: &[u8]) -> Result<Params, MalformedParams> {
    RUNTIME.with(|runtime| runtime.block_on(decode_body(content_type, body)))
}

/// Text mixing ASCII, controls and any Unicode.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,24}",
        "[\\x00-\\x7f]{0,24}",
        prop::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter),
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((any_text(), any_text()), 0..8)
}

/// Bytes that are not UTF-8.
fn invalid_utf8() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..12)
        .prop_filter("not UTF-8", |bytes| std::str::from_utf8(bytes).is_err())
}

/// Every byte as `%XX`.
fn escape_all(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// The form a browser sends (`+` for spaces), or every byte escaped; pairs joined by `&`,
/// or by `&&` with a trailing `&` (empty pairs are skipped).
fn encode_form(pairs: &[(String, String)], escape_every_byte: bool, loose: bool) -> Vec<u8> {
    let encode = |text: &str| -> String {
        if escape_every_byte {
            escape_all(text.as_bytes())
        } else {
            url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
        }
    };
    let joined: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    if loose {
        format!("{}&", joined.join("&&")).into_bytes()
    } else {
        joined.join("&").into_bytes()
    }
}

/// A multipart body of text fields (RFC 2046 §5.1.1: at least one).
fn encode_multipart(boundary: &str, fields: &[(String, String)]) -> Vec<u8> {
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

fn multipart_type(boundary: &str) -> String {
    format!("multipart/form-data; boundary=\"{boundary}\"")
}

/// RFC 2046 §5.1.1 boundary characters, without the space.
fn boundary() -> impl Strategy<Value = String> {
    "[A-Za-z0-9'()+_,./:=?-]{1,40}"
}

fn field_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.-]{1,16}"
}

/// Decoded names and values hold no more bytes than the body that carried them.
fn decoded_bytes(params: &Params) -> usize {
    params
        .pairs()
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .sum()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn encoded_forms_decode_to_the_pairs_sent(
        pairs in pairs(),
        escape_every_byte in any::<bool>(),
        loose in any::<bool>(),
    ) {
        let body = encode_form(&pairs, escape_every_byte, loose);

        let decoded = parse_urlencoded(&body).expect("an encoded form decodes");

        prop_assert_eq!(decoded.pairs(), &pairs[..]);
        let has_nul = pairs.iter().any(|(name, value)| name.contains('\0') || value.contains('\0'));
        match decode(FORM, &body) {
            Ok(params) => prop_assert_eq!(params, decoded),
            Err(error) => prop_assert!(has_nul || body.len() > BODY_LIMIT, "{}", error),
        }
    }

    #[test]
    fn a_name_or_value_that_is_not_utf8_once_decoded_is_refused(
        pairs in pairs(),
        bad in invalid_utf8(),
        at in any::<prop::sample::Index>(),
        as_name in any::<bool>(),
    ) {
        let mut body = encode_form(&pairs, false, false);
        let bad = escape_all(&bad);
        let pair = if as_name { format!("{bad}=v") } else { format!("n={bad}") };
        let mut parts: Vec<&[u8]> = body.split(|&b| b == b'&').filter(|p| !p.is_empty()).collect();
        parts.insert(at.index(parts.len() + 1), pair.as_bytes());
        body = parts.join(&b'&');

        let error = parse_urlencoded(&body).expect_err("invalid UTF-8");

        prop_assert_eq!(error.status.as_u16(), 400);
        prop_assert_eq!(decode(FORM, &body).expect_err("invalid UTF-8").status.as_u16(), 400);
    }

    #[test]
    fn any_bytes_decode_to_no_more_than_was_sent_or_are_refused(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            "[ -~]{0,64}".prop_map(String::into_bytes),
            "([a-z%0-9A-F+=&]{0,6}){0,12}".prop_map(String::into_bytes),
        ],
    ) {
        let plain_ascii = body.is_ascii() && !body.contains(&b'%');
        match parse_urlencoded(&body) {
            Ok(params) => {
                let segments = body.split(|&b| b == b'&').filter(|p| !p.is_empty()).count();
                prop_assert_eq!(params.pairs().len(), segments);
                prop_assert!(decoded_bytes(&params) <= body.len());
                let again = parse_urlencoded(&encode_form(params.pairs(), false, false))
                    .expect("a decoded form encodes and decodes again");
                prop_assert_eq!(again, params);
            }
            Err(error) => {
                prop_assert!(!plain_ascii, "refused plain ASCII {:?}", String::from_utf8_lossy(&body));
                prop_assert_eq!(error.status.as_u16(), 400);
            }
        }
    }

    #[test]
    fn multipart_text_fields_decode_to_the_fields_sent(
        boundary in boundary(),
        fields in prop::collection::vec(
            (field_name(), any_text().prop_filter("no NUL", |v| !v.contains('\0'))),
            1..12,
        ),
    ) {
        let body = encode_multipart(&boundary, &fields);

        let decoded = decode(&multipart_type(&boundary), &body).expect("a multipart form decodes");

        prop_assert_eq!(decoded.pairs(), &fields[..]);
    }

    #[test]
    fn a_multipart_form_over_the_field_limit_is_refused(
        boundary in boundary(),
        extra in 1usize..8,
    ) {
        let fields: Vec<(String, String)> = (0..MULTIPART_FIELD_LIMIT + extra)
            .map(|i| (format!("f{i}"), "v".to_owned()))
            .collect();

        let error = decode(&multipart_type(&boundary), &encode_multipart(&boundary, &fields))
            .expect_err("too many fields");

        prop_assert_eq!(error.status.as_u16(), 400);
        prop_assert!(error.text.contains("too many fields"), "{}", error);
    }

    #[test]
    fn any_multipart_body_decodes_within_the_limits_or_is_refused(
        boundary in prop_oneof![boundary(), any_text()],
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            (boundary(), prop::collection::vec((field_name(), any_text()), 0..4), 0usize..400)
                .prop_map(|(b, fields, cut)| {
                    let mut body = encode_multipart(&b, &fields);
                    body.truncate(cut);
                    body
                }),
        ],
    ) {
        match decode(&multipart_type(&boundary), &body) {
            Ok(params) => {
                prop_assert!(params.pairs().len() <= MULTIPART_FIELD_LIMIT);
                prop_assert!(decoded_bytes(&params) <= body.len());
                prop_assert!(params.pairs().iter().all(|(n, v)| !n.contains('\0') && !v.contains('\0')));
            }
            Err(error) => prop_assert!(
                [400, 413].contains(&error.status.as_u16()),
                "{}: {}", error.status, error
            ),
        }
    }

    #[test]
    fn a_body_over_the_limit_is_413_whatever_its_type(
        over in 1usize..2048,
        multipart in any::<bool>(),
    ) {
        let content_type = if multipart { multipart_type("XyZ") } else { FORM.to_owned() };
        let mut body = encode_multipart("XyZ", &[("a".to_owned(), String::new())]);
        body.resize(BODY_LIMIT + over, b'a');

        let error = decode(&content_type, &body).expect_err("over the limit");

        prop_assert_eq!(error.status.as_u16(), 413);
    }
}
