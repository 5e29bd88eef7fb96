use tessera_domain::claim::Claim;
use tessera_domain::client::{AuthMethod, Client, ClientDetails, GrantType, ResponseType};
use tessera_domain::jwt_access_token::AccessTokenFormat;
use tessera_domain::redirect_uri::RedirectUri;
use tessera_domain::signing::SigningAlg;
use tessera_domain::store::{ClientStore as _, CodeStore as _, TokenStore as _, UserStore as _};
use tessera_domain::token::TokenKind;
use tessera_domain::{Secret, StoreError};
use tessera_persistence::both_backends;
use tessera_persistence::test_db::TestDb;

use crate::fixtures::{
    assert_not_stored, at, claim, client, scope, seed, seeded_code_and_token, t0, user,
};

both_backends!(a_client_round_trips_with_all_its_metadata, |db: TestDb| {
    let db = db.database();
    let owner = user("alice");
    db.insert_user(&owner).unwrap();
    let confidential = client("confidential", Some(owner.id));
    let public = Client {
        id: "public".into(),
        owner_id: None,
        secret_digest: None,
        name: "CLI app".into(),
        uri: None,
        redirect_uris: vec![RedirectUri::parse("com.example.app:/oauth", false).unwrap()],
        grant_types: vec![GrantType::Implicit, GrantType::Password],
        response_types: vec![ResponseType::Token],
        scope: scope(""),
        auth_method: AuthMethod::None,
        created_at: t0(),
        id_token_alg: SigningAlg::EdDsa,
        post_logout_redirect_uris: vec![],
        access_token_format: Some(AccessTokenFormat::Jwt),
        require_pushed_requests: Some(true),
        details: ClientDetails::default(),
        registration_token_digest: None,
        registered_dynamically: true,
    };
    let machine = Client {
        id: "machine".into(),
        redirect_uris: vec![],
        grant_types: vec![GrantType::ClientCredentials],
        response_types: vec![],
        auth_method: AuthMethod::ClientSecretPost,
        access_token_format: Some(AccessTokenFormat::Opaque),
        require_pushed_requests: Some(false),
        ..client("machine", None)
    };
    for client in [&confidential, &public, &machine] {
        db.insert_client(client).unwrap();
        assert_eq!(db.find_client(&client.id).unwrap().as_ref(), Some(client));
    }
    assert_eq!(db.find_client("nobody").unwrap(), None);
});

both_backends!(a_duplicate_client_id_is_a_conflict, |db: TestDb| {
    let db = db.database();
    db.insert_client(&client("same", None)).unwrap();
    let error = db.insert_client(&client("same", None)).unwrap_err();
    assert!(matches!(error, StoreError::Conflict), "{error:?}");
});

both_backends!(
    a_redirect_uri_with_a_line_break_is_refused_not_stored_mangled,
    |db: TestDb| {
        let db = db.database();
        // The URL parser drops line breaks, so such text can pass `RedirectUri::parse`;
        // stored one per line, it would read back as two URIs.
        let sneaky =
            RedirectUri::from_stored("https://app.example/a\nhttps://evil.example/b".into());
        let client = Client {
            redirect_uris: vec![sneaky],
            ..client("sneaky", None)
        };
        let error = db.insert_client(&client).unwrap_err();
        assert!(matches!(error, StoreError::Other(_)), "{error:?}");
        assert_eq!(db.find_client("sneaky").unwrap(), None);
    }
);

both_backends!(
    clients_of_lists_the_owners_clients_oldest_first,
    |db: TestDb| {
        let db = db.database();
        let alice = user("alice");
        let bob = user("bob");
        db.insert_user(&alice).unwrap();
        db.insert_user(&bob).unwrap();
        let newer = Client {
            created_at: at(10),
            ..client("a-newer", Some(alice.id))
        };
        let older = client("b-older", Some(alice.id));
        db.insert_client(&newer).unwrap();
        db.insert_client(&older).unwrap();
        db.insert_client(&client("bobs", Some(bob.id))).unwrap();
        db.insert_client(&client("cli", None)).unwrap();
        assert_eq!(db.clients_of(alice.id).unwrap(), vec![older, newer]);
        assert_eq!(db.clients_of(user("carol").id).unwrap(), vec![]);
    }
);

both_backends!(
    only_the_owner_deletes_a_client_and_its_codes_and_tokens_go_with_it,
    |db: TestDb| {
        let db = db.database();
        let (seeded, code, access) = seeded_code_and_token(db, TokenKind::Access);
        let mallory = user("mallory");
        db.insert_user(&mallory).unwrap();

        assert!(!db.delete_client(&seeded.client.id, mallory.id).unwrap());
        assert!(db.find_client(&seeded.client.id).unwrap().is_some());
        assert!(db.find_token(&access.digest).unwrap().is_some());

        assert!(db.delete_client(&seeded.client.id, seeded.user.id).unwrap());
        assert_eq!(db.find_client(&seeded.client.id).unwrap(), None);
        assert_not_stored(db, &access);
        assert_eq!(db.find_code(&code.digest).unwrap(), None);
        assert_eq!(claim(db, &code.digest, t0(), &[]), Claim::Unusable);
        assert!(!db.delete_client(&seeded.client.id, seeded.user.id).unwrap());
    }
);

both_backends!(
    a_client_without_owner_is_never_deleted_by_a_user,
    |db: TestDb| {
        let db = db.database();
        let alice = user("alice");
        db.insert_user(&alice).unwrap();
        db.insert_client(&client("cli", None)).unwrap();
        assert!(!db.delete_client("cli", alice.id).unwrap());
        assert!(!db
            .set_client_secret("cli", Some(alice.id), &Secret::generate().digest())
            .unwrap());
        assert!(db.find_client("cli").unwrap().is_some());
    }
);

both_backends!(only_the_owner_rotates_a_client_secret, |db: TestDb| {
    let db = db.database();
    let seeded = seed(db);
    let mallory = user("mallory");
    db.insert_user(&mallory).unwrap();
    let new_secret = Secret::generate();

    assert!(!db
        .set_client_secret(&seeded.client.id, Some(mallory.id), &new_secret.digest())
        .unwrap());
    let unchanged = db.find_client(&seeded.client.id).unwrap().unwrap();
    assert_eq!(unchanged.secret_digest, seeded.client.secret_digest);

    assert!(db
        .set_client_secret(
            &seeded.client.id,
            Some(seeded.user.id),
            &new_secret.digest()
        )
        .unwrap());
    let rotated = db.find_client(&seeded.client.id).unwrap().unwrap();
    assert!(rotated.secret_digest.unwrap().matches(new_secret.expose()));
    assert!(!db
        .set_client_secret("unknown", Some(seeded.user.id), &new_secret.digest())
        .unwrap());
});
