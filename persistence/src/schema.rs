//! The tables, as Diesel sees them: one portable schema for SQLite and Postgres (TEXT ids and
//! digests, BIGINT epoch seconds). It matches `diesel print-schema` on the SQLite migrations.

diesel::table! {
    authorization_codes (digest) {
        digest -> Text,
        authorization_id -> Text,
        client_id -> Text,
        user_id -> Text,
        redirect_uri -> Nullable<Text>,
        scope -> Text,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        owner_id -> Nullable<Text>,
        secret_digest -> Nullable<Text>,
        name -> Text,
        uri -> Nullable<Text>,
        redirect_uris -> Text,
        grant_types -> Text,
        response_types -> Text,
        scope -> Text,
        auth_method -> Text,
        created_at -> BigInt,
        id_token_signed_response_alg -> Text,
        post_logout_redirect_uris -> Text,
        access_token_format -> Nullable<Text>,
        require_pushed_requests -> Nullable<Bool>,
        logo_uri -> Nullable<Text>,
        tos_uri -> Nullable<Text>,
        policy_uri -> Nullable<Text>,
        contacts -> Text,
        registration_token_digest -> Nullable<Text>,
        registered_dynamically -> Bool,
    }
}

diesel::table! {
    authorizations (id) {
        id -> Text,
        client_id -> Text,
        user_id -> Nullable<Text>,
        scope -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        auth_time -> Nullable<BigInt>,
        nonce -> Nullable<Text>,
        session_id -> Nullable<Text>,
    }
}

diesel::table! {
    consents (user_id, client_id) {
        user_id -> Text,
        client_id -> Text,
        scope -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    device_codes (digest) {
        digest -> Text,
        user_code_digest -> Text,
        client_id -> Text,
        scope -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        interval_seconds -> BigInt,
        last_polled_at -> Nullable<BigInt>,
        status -> Text,
        user_id -> Nullable<Text>,
        auth_time -> Nullable<BigInt>,
        redeemed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    pushed_requests (digest) {
        digest -> Text,
        client_id -> Text,
        params -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    registration_tokens (digest) {
        digest -> Text,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        uses_left -> Nullable<Integer>,
    }
}

diesel::table! {
    revoked_jwts (jti) {
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        started_at -> BigInt,
        last_seen_at -> BigInt,
        ended_at -> Nullable<BigInt>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        public_jwk -> Text,
        private_key -> Text,
        protection -> Text,
        first_for -> Nullable<Text>,
        created_at -> BigInt,
        signs_from -> BigInt,
    }
}

diesel::table! {
    throttles (key) {
        key -> Text,
        failures -> BigInt,
        window_started_at -> BigInt,
        locked_until -> Nullable<BigInt>,
        lockouts -> BigInt,
    }
}

diesel::table! {
    tokens (digest) {
        digest -> Text,
        kind -> Text,
        authorization_id -> Text,
        client_id -> Text,
        user_id -> Nullable<Text>,
        scope -> Text,
        issued_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        rotated_at -> Nullable<BigInt>,
        parent_digest -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Text,
        created_at -> BigInt,
        email -> Nullable<Text>,
        disabled_at -> Nullable<BigInt>,
        tokens_valid_after -> Nullable<BigInt>,
    }
}

diesel::joinable!(authorization_codes -> authorizations (authorization_id));
diesel::joinable!(clients -> users (owner_id));
diesel::joinable!(consents -> clients (client_id));
diesel::joinable!(consents -> users (user_id));
diesel::joinable!(authorizations -> clients (client_id));
diesel::joinable!(authorizations -> users (user_id));
diesel::joinable!(device_codes -> clients (client_id));
diesel::joinable!(device_codes -> users (user_id));
diesel::joinable!(pushed_requests -> clients (client_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(tokens -> authorizations (authorization_id));

diesel::allow_tables_to_appear_in_same_query!(
    authorization_codes,
    clients,
    authorizations,
    device_codes,
    pushed_requests,
    registration_tokens,
    revoked_jwts,
    sessions,
    settings,
    signing_keys,
    throttles,
    tokens,
    users,
);
