//! Properties of the domain's parsers, over generated input: scopes (RFC 6749 §3.3),
//! redirect URIs (RFC 6749 §3.1.2, RFC 8252 §7.1), PKCE (RFC 7636) and HTTP Basic client
//! credentials (RFC 6749 §2.3.1). Each property runs a few hundred cases.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use sha2::{Digest as _, Sha256};
use tessera_domain::client_auth::ClientCredentials;
use tessera_domain::pkce::CodeChallenge;
use tessera_domain::redirect_uri::{self, RedirectUri};
use tessera_domain::{ErrorCode, Params, Scope};

/// Enough cases to cover the grammars, few enough that the whole file runs in seconds; a
/// failing case is saved beside this file and tried first on the next run.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

/// Text mixing ASCII, controls and any Unicode, so every parser meets its edge characters.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,40}",
        "[\\x00-\\x7f]{0,40}",
        prop::collection::vec(any::<char>(), 0..40).prop_map(String::from_iter),
    ]
}

mod scope {
    use super::*;

    /// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
    fn is_scope_char(c: char) -> bool {
        matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
    }

    fn token() -> impl Strategy<Value = String> {
        "[!#-\\[\\]-~]{1,10}"
    }

    /// A small vocabulary, so that requested and registered scopes overlap often.
    fn vocabulary_token() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["openid", "profile", "email", "a", "b:c", "read!"])
            .prop_map(str::to_owned)
    }

    /// Tokens joined by runs of one to three spaces, with spaces around them.
    fn spaced(tokens: &[String], gaps: &[usize]) -> String {
        let mut text = " ".repeat(gaps.first().copied().unwrap_or(0));
        for (i, token) in tokens.iter().enumerate() {
            text.push_str(token);
            text.push_str(&" ".repeat(gaps.get(i + 1).copied().unwrap_or(1).max(1)));
        }
        text
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn valid_tokens_parse_to_their_set_in_any_order_spacing_and_repetition(
            tokens in prop::collection::vec(token(), 0..8),
            gaps in prop::collection::vec(0usize..4, 9),
            shuffle_seed in any::<u64>(),
        ) {
            let mut sent = tokens.clone();
            sent.extend(tokens.iter().take(2).cloned());
            let rotate = if sent.is_empty() { 0 } else { (shuffle_seed as usize) % sent.len() };
            sent.rotate_left(rotate);

            let scope = Scope::parse(&spaced(&sent, &gaps)).expect("valid tokens parse");

            let mut expected: Vec<&str> = tokens.iter().map(String::as_str).collect();
            expected.sort_unstable();
            expected.dedup();
            prop_assert_eq!(scope.iter().collect::<Vec<_>>(), expected.clone());
            prop_assert_eq!(scope.to_string(), expected.join(" "));
            prop_assert_eq!(Scope::parse(&scope.to_string()).expect("reparses"), scope);
        }

        #[test]
        fn a_scope_parses_exactly_when_every_character_is_a_space_or_a_scope_character(
            text in prop_oneof![any_text(), "[!-~ ]{0,30}"],
        ) {
            let allowed = text.chars().all(|c| c == ' ' || is_scope_char(c));
            match Scope::parse(&text) {
                Ok(scope) => {
                    prop_assert!(allowed, "accepted {:?}", text);
                    prop_assert!(scope.iter().all(|token| !token.is_empty() && text.contains(token)));
                }
                Err(error) => {
                    prop_assert!(!allowed, "refused {:?}", text);
                    prop_assert_eq!(error.code, ErrorCode::InvalidScope);
                }
            }
        }

        #[test]
        fn a_request_is_granted_only_within_the_registered_scope(
            registered in prop::collection::vec(vocabulary_token(), 0..4),
            requested in prop::option::of(prop::collection::vec(vocabulary_token(), 0..4)),
        ) {
            let allowed = Scope::parse(&registered.join(" ")).expect("vocabulary parses");
            let requested_text = requested.as_ref().map(|tokens| tokens.join(" "));

            let granted = Scope::requested_within(requested_text.as_deref(), &allowed);

            let asked = Scope::parse(requested_text.as_deref().unwrap_or("")).expect("parses");
            if asked.is_empty() {
                prop_assert_eq!(granted.expect("an empty request is granted"), allowed);
            } else if asked.is_subset_of(&allowed) {
                prop_assert_eq!(granted.expect("a request within the scope is granted"), asked);
            } else {
                prop_assert_eq!(granted.expect_err("beyond the scope").code, ErrorCode::InvalidScope);
            }
        }

        #[test]
        fn a_union_holds_both_sets_and_nothing_else(
            left in prop::collection::vec(vocabulary_token(), 0..4),
            right in prop::collection::vec(vocabulary_token(), 0..4),
        ) {
            let left = Scope::parse(&left.join(" ")).expect("parses");
            let right = Scope::parse(&right.join(" ")).expect("parses");

            let union = left.union(&right);

            prop_assert!(left.is_subset_of(&union) && right.is_subset_of(&union));
            prop_assert!(union.iter().all(|token| left.contains(token) || right.contains(token)));
        }
    }
}

mod redirect_uris {
    use super::*;

    fn host() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?(\\.[a-z][a-z0-9]{0,8}){1,3}"
    }

    fn path_and_query() -> impl Strategy<Value = String> {
        (
            "(/[A-Za-z0-9._~!$'()*+,;=:@-]{0,8}){0,4}",
            prop::option::of("[A-Za-z0-9._~=&/?-]{0,16}"),
        )
            .prop_map(|(path, query)| match query {
                Some(query) => format!("{path}?{query}"),
                None => path,
            })
    }

    fn port() -> impl Strategy<Value = String> {
        prop::option::of(1u16..).prop_map(|port| port.map(|p| format!(":{p}")).unwrap_or_default())
    }

    /// `https` URIs on a named host: always acceptable.
    fn https_uri() -> impl Strategy<Value = String> {
        (host(), port(), path_and_query())
            .prop_map(|(host, port, rest)| format!("https://{host}{port}{rest}"))
    }

    /// `http` URIs on a loopback host: acceptable without `insecure_transport`.
    fn loopback_uri() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec![
                "127.0.0.1",
                "127.4.5.6",
                "[::1]",
                "localhost",
                "LocalHost",
            ]),
            port(),
            path_and_query(),
        )
            .prop_map(|(host, port, rest)| format!("http://{host}{port}{rest}"))
    }

    /// RFC 8252 §7.1 private-use schemes in reverse-domain form.
    fn private_use_uri() -> impl Strategy<Value = String> {
        (
            "[a-z]{2,6}(\\.[a-z][a-z0-9]{1,8}){1,3}",
            "(/[a-z0-9]{1,8}){1,3}",
        )
            .prop_map(|(scheme, path)| format!("{scheme}:{path}"))
    }

    fn acceptable_uri() -> impl Strategy<Value = String> {
        prop_oneof![https_uri(), loopback_uri(), private_use_uri()]
    }

    /// `javascript`, `data`, `file` or `vbscript`, each letter in either case.
    fn forbidden_scheme() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["javascript", "data", "file", "vbscript"]),
            any::<u64>(),
        )
            .prop_map(|(scheme, cases)| {
                scheme
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if cases >> (i % 64) & 1 == 1 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        }
                    })
                    .collect()
            })
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn acceptable_uris_are_accepted_kept_verbatim_and_matched_only_exactly(
            uri in acceptable_uri(),
            insecure in any::<bool>(),
        ) {
            let parsed = RedirectUri::parse(&uri, insecure).expect("an acceptable URI");

            prop_assert_eq!(parsed.as_str(), uri.as_str());
            prop_assert_eq!(parsed.to_string(), uri.clone());
            let again = RedirectUri::parse(parsed.as_str(), insecure).expect("still acceptable");
            prop_assert_eq!(&again, &parsed);
            let registered = [parsed];
            prop_assert!(redirect_uri::resolve(&registered, Some(&uri), true).is_some());
            for near in [format!("{uri}/"), format!("{uri}x"), uri.to_uppercase(), uri[..uri.len() - 1].to_owned()] {
                if near != uri {
                    prop_assert!(redirect_uri::resolve(&registered, Some(&near), true).is_none(), "{}", near);
                }
            }
        }

        #[test]
        fn javascript_data_file_and_vbscript_are_refused_in_any_case(
            scheme in forbidden_scheme(),
            rest in prop_oneof![
                Just("alert(1)".to_owned()),
                Just("//app.example/cb".to_owned()),
                Just("///etc/passwd".to_owned()),
                "[ -~]{0,30}",
            ],
            insecure in any::<bool>(),
        ) {
            let uri = format!("{scheme}:{rest}");
            prop_assert!(RedirectUri::parse(&uri, insecure).is_err(), "accepted {}", uri);
        }

        #[test]
        fn a_fragment_is_refused(
            uri in acceptable_uri(),
            fragment in "[A-Za-z0-9=&/?#._~-]{0,16}",
            insecure in any::<bool>(),
        ) {
            let with_fragment = format!("{uri}#{fragment}");
            prop_assert_eq!(
                RedirectUri::parse(&with_fragment, insecure).expect_err("a fragment"),
                "must not contain a fragment"
            );
        }

        #[test]
        fn a_user_name_or_password_is_refused(
            user in "[A-Za-z0-9._~-]{1,8}",
            password in prop::option::of("[A-Za-z0-9._~-]{0,8}"),
            host in host(),
            rest in path_and_query(),
            insecure in any::<bool>(),
        ) {
            let userinfo = match password {
                Some(password) => format!("{user}:{password}"),
                None => user,
            };
            let uri = format!("https://{userinfo}@{host}{rest}");
            prop_assert_eq!(
                RedirectUri::parse(&uri, insecure).expect_err("userinfo"),
                "must not contain a user name or password"
            );
        }

        #[test]
        fn whitespace_or_a_control_character_anywhere_is_refused(
            uri in acceptable_uri(),
            at in any::<prop::sample::Index>(),
            bad in any::<char>().prop_filter("whitespace or control", |c| c.is_whitespace() || c.is_control()),
            insecure in any::<bool>(),
        ) {
            let mut chars: Vec<char> = uri.chars().collect();
            chars.insert(at.index(chars.len() + 1), bad);
            let uri: String = chars.into_iter().collect();
            prop_assert!(RedirectUri::parse(&uri, insecure).is_err(), "accepted {:?}", uri);
        }

        #[test]
        fn plain_http_off_loopback_needs_insecure_transport(
            host in host(),
            port in port(),
            rest in path_and_query(),
        ) {
            let uri = format!("http://{host}{port}{rest}");
            prop_assert!(RedirectUri::parse(&uri, false).is_err(), "accepted {}", uri);
            prop_assert!(RedirectUri::parse(&uri, true).is_ok(), "refused {}", uri);
        }

        #[test]
        fn parsing_any_text_never_panics_and_what_it_accepts_is_absolute_and_fragment_free(
            text in prop_oneof![any_text(), "[a-zA-Z.]{1,12}:[ -~]{0,30}"],
            insecure in any::<bool>(),
        ) {
            if let Ok(uri) = RedirectUri::parse(&text, insecure) {
                let url = url::Url::parse(uri.as_str()).expect("absolute");
                prop_assert!(url.fragment().is_none());
                prop_assert!(url.username().is_empty() && url.password().is_none());
                prop_assert!(!["javascript", "data", "file", "vbscript"].contains(&url.scheme()));
            }
        }

        #[test]
        fn added_parameters_are_read_back_after_the_registered_query(
            uri in https_uri(),
            params in prop::collection::vec((any_text(), any_text()), 1..5),
        ) {
            let registered = RedirectUri::parse(&uri, false).expect("acceptable");
            let pairs: Vec<(&str, &str)> =
                params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let original: Vec<(String, String)> = url::Url::parse(&uri)
                .expect("absolute")
                .query_pairs()
                .into_owned()
                .collect();

            let in_query = url::Url::parse(&registered.with_params(&pairs, false)).expect("a URL");
            let read: Vec<(String, String)> = in_query.query_pairs().into_owned().collect();
            prop_assert_eq!(&read[..original.len()], &original[..]);
            prop_assert_eq!(&read[original.len()..], &params[..]);

            let in_fragment = url::Url::parse(&registered.with_params(&pairs, true)).expect("a URL");
            let fragment = in_fragment.fragment().expect("a fragment");
            let read: Vec<(String, String)> =
                url::form_urlencoded::parse(fragment.as_bytes()).into_owned().collect();
            prop_assert_eq!(&read[..], &params[..]);
        }
    }
}

mod pkce {
    use super::*;

    /// RFC 7636 §4.1: 43 to 128 of `[A-Za-z0-9-._~]`.
    fn is_pkce_string(text: &str) -> bool {
        (43..=128).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    }

    fn verifier() -> impl Strategy<Value = String> {
        "[A-Za-z0-9._~-]{43,128}"
    }

    fn s256(verifier: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn a_challenge_is_accepted_exactly_when_it_has_43_to_128_unreserved_characters(
            text in prop_oneof![verifier(), "[A-Za-z0-9._~-]{0,160}", "[ -~]{40,130}", any_text()],
            plain in any::<bool>(),
        ) {
            let method = if plain { "plain" } else { "S256" };
            let result = CodeChallenge::from_request(Some(&text), Some(method), true);
            match result {
                Ok(challenge) => {
                    prop_assert!(is_pkce_string(&text), "accepted {:?}", text);
                    prop_assert_eq!(challenge.expect("a challenge").value, text);
                }
                Err(error) => {
                    prop_assert!(!is_pkce_string(&text), "refused {:?}", text);
                    prop_assert_eq!(error.code, ErrorCode::InvalidRequest);
                }
            }
        }

        #[test]
        fn an_s256_challenge_is_answered_by_its_own_verifier_only(
            verifier in verifier(),
            other in prop_oneof![verifier(), any_text()],
        ) {
            let challenge = CodeChallenge::from_request(Some(&s256(&verifier)), Some("S256"), false)
                .expect("a valid challenge")
                .expect("a challenge");

            prop_assert!(challenge.verify(&verifier));
            prop_assert!(!challenge.verify(&challenge.value), "the challenge is not its own verifier");
            if other != verifier {
                prop_assert!(!challenge.verify(&other), "{:?} answered the challenge of {:?}", other, verifier);
            }
        }

        #[test]
        fn a_plain_challenge_is_answered_by_itself_only_and_needs_configuration(
            verifier in verifier(),
            other in prop_oneof![verifier(), any_text()],
            method in prop::option::of(Just("plain")),
        ) {
            prop_assert!(CodeChallenge::from_request(Some(&verifier), method, false).is_err());
            let challenge = CodeChallenge::from_request(Some(&verifier), method, true)
                .expect("plain allowed")
                .expect("a challenge");

            prop_assert!(challenge.verify(&verifier));
            prop_assert_eq!(challenge.verify(&other), other == verifier);
        }

        #[test]
        fn a_verifier_outside_the_rules_never_answers(
            verifier in verifier(),
            cut in 0usize..43,
            bad in any::<char>().prop_filter("not unreserved", |c| {
                !c.is_ascii_alphanumeric() && !matches!(c, '-' | '.' | '_' | '~')
            }),
        ) {
            let challenge = CodeChallenge::from_request(Some(&s256(&verifier)), Some("S256"), false)
                .expect("valid")
                .expect("a challenge");
            prop_assert!(!challenge.verify(&verifier[..cut]));
            let with_bad = format!("{verifier}{bad}");
            prop_assert!(!challenge.verify(&with_bad));
            let mut long = verifier.clone();
            while long.len() <= 128 {
                long.push_str(&verifier);
            }
            prop_assert!(!challenge.verify(&long));
        }
    }
}

mod basic_credentials {
    use super::*;

    fn form_encode(text: &str) -> String {
        url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }

    /// Every byte as `%XX`, the other encoding a client may use.
    fn percent_encode_all(text: &str) -> String {
        text.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    fn basic(raw: &[u8]) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    fn decoded(header: &str) -> Result<Option<(String, String)>, ErrorCode> {
        ClientCredentials::from_request(Some(header), &Params::default())
            .map(|credentials| credentials.basic)
            .map_err(|error| error.code)
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn encoded_credentials_decode_to_the_id_and_secret(
            id in any_text(),
            secret in any_text(),
            every_byte in any::<bool>(),
            scheme in prop::sample::select(vec!["Basic", "basic", "BASIC", "bAsIc"]),
        ) {
            let encode = if every_byte { percent_encode_all } else { form_encode };
            let raw = format!("{}:{}", encode(&id), encode(&secret));
            let header = format!("{scheme} {}", STANDARD.encode(raw));

            prop_assert_eq!(decoded(&header), Ok(Some((id, secret))));
        }

        #[test]
        fn characters_that_need_no_escape_may_be_sent_as_they_are(
            id in "[^%+:]{0,20}",
            secret in "[^%+]{0,20}",
        ) {
            let header = basic(format!("{id}:{secret}").as_bytes());
            prop_assert_eq!(decoded(&header), Ok(Some((id, secret))));
        }

        #[test]
        fn escapes_that_are_not_utf8_are_refused(
            bytes in prop::collection::vec(any::<u8>(), 1..12)
                .prop_filter("not UTF-8", |bytes| std::str::from_utf8(bytes).is_err()),
            in_secret in any::<bool>(),
        ) {
            let escaped: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
            let raw = if in_secret { format!("id:{escaped}") } else { format!("{escaped}:secret") };
            prop_assert_eq!(decoded(&basic(raw.as_bytes())), Err(ErrorCode::InvalidClient));
        }

        #[test]
        fn any_header_is_decoded_or_refused_as_invalid_client_never_a_panic(
            header in prop_oneof![
                any_text(),
                any_text().prop_map(|text| format!("Basic {text}")),
                prop::collection::vec(any::<u8>(), 0..48).prop_map(|raw| basic(&raw)),
                "[^:]{0,20}".prop_map(|raw| basic(raw.as_bytes())),
            ],
        ) {
            let is_basic = header
                .split_once(' ')
                .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"));
            match decoded(&header) {
                Ok(None) => prop_assert!(!is_basic, "{:?} was not read", header),
                Ok(Some(_)) => prop_assert!(is_basic),
                Err(code) => {
                    prop_assert!(is_basic);
                    prop_assert_eq!(code, ErrorCode::InvalidClient);
                }
            }
        }
    }
}
