//! The paths of the OAuth and OpenID endpoints, shared by the router and the discovery
//! documents so that metadata always names the routes that exist.

/// The authorization endpoint (RFC 6749 §3.1).
pub const AUTHORIZE: &str = "/oauth/authorize";
/// The token endpoint (RFC 6749 §3.2).
pub const TOKEN: &str = "/oauth/token";
/// Pushed authorization requests (RFC 9126).
pub const PUSHED_AUTHORIZATION_REQUEST: &str = "/oauth/par";
/// Device authorization requests (RFC 8628 §3.1).
pub const DEVICE_AUTHORIZATION: &str = "/oauth/device_authorization";
/// Where the user enters a device's user code (RFC 8628 §3.3, `verification_uri`).
pub const DEVICE: &str = "/device";
/// Dynamic client registration (RFC 7591); each client is managed below it (RFC 7592).
pub const REGISTER: &str = "/oauth/register";
/// A client's registration client URI (RFC 7592), as the router matches it.
pub const REGISTERED_CLIENT: &str = "/oauth/register/{client_id}";
/// Token revocation (RFC 7009).
pub const REVOKE: &str = "/oauth/revoke";
/// Token introspection (RFC 7662).
pub const INTROSPECT: &str = "/oauth/introspect";
/// The JWK Set (RFC 7517).
pub const JWKS: &str = "/oauth/jwks";
/// OpenID Connect UserInfo (Core §5.3).
pub const USERINFO: &str = "/oauth/userinfo";
/// OpenID Connect RP-Initiated Logout 1.0 (`end_session_endpoint`).
pub const END_SESSION: &str = "/oauth/logout";
/// RFC 8414 authorization server metadata.
pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
/// OpenID Connect Discovery 1.0.
pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
