//! What the authorization endpoint does with a valid request (OpenID Connect Core §3.1.2.1,
//! §3.1.2.3, §3.1.2.4): the table of signed in × `prompt` × `max_age` × remembered consent.
//!
//! | situation | outcome |
//! | --- | --- |
//! | nobody signed in | sign in (`prompt=none`: `login_required`) |
//! | `prompt=login` or `select_account`, or the sign-in is older than `max_age` | sign in again (`prompt=none`: `login_required`) |
//! | `prompt=consent` | show the consent page |
//! | a remembered consent covers the scope | issue at once |
//! | otherwise | show the consent page (`prompt=none`: `consent_required`) |

use chrono::{DateTime, Utc};

use crate::authorize::{AuthorizationRequest, AuthorizeError};
use crate::error::{ErrorCode, OAuthError};
use crate::params::Params;
use crate::provider::Provider;
use crate::store::Store;
use crate::user::User;

/// The `prompt` parameter (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: the user must not be asked anything.
    pub none: bool,
    /// `login` (or `select_account`, which Tessera treats alike): sign in again.
    pub login: bool,
    /// `consent`: ask for approval even when it is remembered.
    pub consent: bool,
}

impl Prompt {
    /// Reads the space-separated values; `none` with any other value, or an unknown value, is
    /// `invalid_request`.
    pub fn parse(text: Option<&str>) -> Result<Self, OAuthError> {
        let mut prompt = Self::default();
        for value in text
            .unwrap_or_default()
            .split(' ')
            .filter(|v| !v.is_empty())
        {
            match value {
                "none" => prompt.none = true,
                "login" | "select_account" => prompt.login = true,
                "consent" => prompt.consent = true,
                _ => {
                    return Err(OAuthError::invalid_request(
                        "The prompt parameter holds an unknown value.",
                    ))
                }
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with other values.",
            ));
        }
        Ok(prompt)
    }
}

/// The signed-in user and when they signed in.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn<'a> {
    /// Who.
    pub user: &'a User,
    /// When they last entered their password (OpenID Connect `auth_time`).
    pub auth_time: DateTime<Utc>,
    /// The browser session they signed in with.
    pub session_id: Option<&'a str>,
}

/// What to do with a valid authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    /// Send the user to sign in, then back to the authorization endpoint with `resume`.
    SignIn {
        /// The `login_hint`, to prefill the username.
        login_hint: Option<String>,
        /// The request to come back with: without `prompt=login` and `max_age`, which the
        /// sign-in itself satisfies.
        resume: Params,
    },
    /// Ask the signed-in user to approve.
    AskConsent,
    /// Send the user agent to this URL at the client: a code, a token, or an error.
    Redirect(String),
}

impl<S: Store> Provider<S> {
    /// Decides what a valid request gets, issuing at once when a remembered consent covers it.
    /// `params` are the request's own parameters (to resume after signing in).
    pub fn decide(
        &self,
        request: &AuthorizationRequest,
        params: &Params,
        signed_in: Option<SignedIn<'_>>,
    ) -> Result<AuthorizeOutcome, AuthorizeError> {
        let now = self.now();
        let fresh_enough = |signed_in: &SignedIn<'_>| {
            request
                .max_age
                .is_none_or(|max_age| (now - signed_in.auth_time).num_seconds() <= max_age)
        };
        // A pushed request cannot be resumed without its `prompt` and `max_age`: a sign-in
        // after it was pushed satisfies them.
        let since_push = |signed_in: &SignedIn<'_>| {
            request
                .pushed
                .is_some_and(|from| signed_in.auth_time >= from.pushed_at)
        };
        let signed_in = match signed_in {
            Some(signed_in)
                if (!request.prompt.login && fresh_enough(&signed_in))
                    || since_push(&signed_in) =>
            {
                signed_in
            }
            _ if request.prompt.none => {
                return Ok(AuthorizeOutcome::Redirect(request.error_redirect(
                    ErrorCode::LoginRequired,
                    "The user must sign in.",
                )))
            }
            _ => {
                return Ok(AuthorizeOutcome::SignIn {
                    login_hint: request.login_hint.clone(),
                    resume: resume_after_sign_in(params),
                })
            }
        };
        if request.prompt.consent {
            return Ok(AuthorizeOutcome::AskConsent);
        }
        let remembered = self
            .store
            .find_consent(signed_in.user.id, &request.client.id)?
            .is_some_and(|consent| consent.covers(&request.scope));
        if remembered {
            return self
                .approve(request, signed_in)
                .map(AuthorizeOutcome::Redirect);
        }
        if request.prompt.none {
            return Ok(AuthorizeOutcome::Redirect(request.error_redirect(
                ErrorCode::ConsentRequired,
                "The user must approve this request.",
            )));
        }
        Ok(AuthorizeOutcome::AskConsent)
    }
}

/// The request without what a fresh sign-in satisfies: `prompt` loses `login` and
/// `select_account` (and goes when empty), and `max_age` goes.
fn resume_after_sign_in(params: &Params) -> Params {
    let pairs = params
        .pairs()
        .iter()
        .filter(|(name, _)| name != "max_age")
        .filter_map(|(name, value)| {
            if name != "prompt" {
                return Some((name.clone(), value.clone()));
            }
            let kept: Vec<&str> = value
                .split(' ')
                .filter(|v| !v.is_empty() && !matches!(*v, "login" | "select_account"))
                .collect();
            (!kept.is_empty()).then(|| (name.clone(), kept.join(" ")))
        })
        .collect();
    Params::new(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_values_parse_and_none_stands_alone() {
        let both = Prompt::parse(Some("login consent")).unwrap_or_default();
        assert!(both.login && both.consent && !both.none);
        assert!(Prompt::parse(Some("select_account")).is_ok_and(|p| p.login));
        assert_eq!(Prompt::parse(None).ok(), Some(Prompt::default()));
        for bad in ["none login", "consent none", "sometimes"] {
            let error = Prompt::parse(Some(bad)).err().map(|e| e.code);
            assert_eq!(error, Some(ErrorCode::InvalidRequest), "{bad}");
        }
    }

    #[test]
    fn resuming_after_sign_in_drops_prompt_login_and_max_age_only() {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let params = Params::new(vec![
            pair("client_id", "c"),
            pair("prompt", "login consent"),
            pair("max_age", "0"),
            pair("state", "s"),
        ]);
        let resumed = resume_after_sign_in(&params);
        assert_eq!(
            resumed.pairs(),
            &[
                pair("client_id", "c"),
                pair("prompt", "consent"),
                pair("state", "s")
            ]
        );
        let only_login = Params::new(vec![pair("prompt", "select_account")]);
        assert!(resume_after_sign_in(&only_login).pairs().is_empty());
    }
}
