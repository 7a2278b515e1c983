//! Bad answers and attacks: each must leave the client unlicensed (or on
//! its previous, genuine state) and say why.

use std::sync::atomic::Ordering;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use calos_client::{CallError, Client, LicenseState, TokenError, UnlicensedCode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::fake::{FakeServer, Reply, Signer, LEASE};

/// Starts a fresh client against `server` and returns what one refresh says.
async fn one_answer(server: &FakeServer) -> (Client, Result<LicenseState, CallError>) {
    let client = server.builder().build().unwrap();
    let result = client.refresh_now().await;
    (client, result)
}

fn assert_never_verified(client: &Client) {
    assert_eq!(
        client.state(),
        LicenseState::Unlicensed {
            code: UnlicensedCode::NotVerified
        }
    );
    assert!(!client.allows("crypto"));
    assert!(client.diagnostics().last_error.is_some());
}

#[tokio::test]
async fn flipped_byte_in_signature_is_rejected() {
    let server = FakeServer::start().await;
    server.fake.set_verify(|f, req| {
        let token = f.sign(&f.valid_claims(req));
        let sig_start = token.rfind('.').unwrap() + 1;
        let mut bytes = token.into_bytes();
        let i = sig_start + 10;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        Reply::token(String::from_utf8(bytes).unwrap())
    });
    let (client, result) = one_answer(&server).await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::BadSignature))
    ));
    assert_never_verified(&client);
}

#[tokio::test]
async fn edited_claims_with_the_original_signature_are_rejected() {
    let server = FakeServer::start().await;
    server.fake.set_verify(|f, req| {
        let token = f.sign(&f.valid_claims(req));
        Reply::token(crate::edit_payload(&token, |p| {
            p["tier"] = "enterprise".into();
        }))
    });
    let (client, result) = one_answer(&server).await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::BadSignature))
    ));
    assert_never_verified(&client);
}

#[tokio::test]
async fn token_signed_by_an_unknown_key_is_rejected() {
    let server = FakeServer::start().await;
    let stranger = Signer::new("k-stranger");
    server
        .fake
        .set_verify(move |f, req| Reply::token(stranger.sign(&f.valid_claims(req))));
    let (client, result) = one_answer(&server).await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::UnknownKey(_)))
    ));
    assert_never_verified(&client);
}

#[tokio::test]
async fn unknown_key_with_a_published_kid_fails_the_signature() {
    let server = FakeServer::start().await;
    // Same kid as the real key, different key material.
    let impostor = Signer::new("k1");
    server
        .fake
        .set_verify(move |f, req| Reply::token(impostor.sign(&f.valid_claims(req))));
    let (client, result) = one_answer(&server).await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::BadSignature))
    ));
    assert_never_verified(&client);
}

#[tokio::test]
async fn unknown_kid_refetches_the_jwks_once() {
    let server = FakeServer::start().await;
    let client = server.builder_unpinned().build().unwrap();
    client.refresh_now().await.unwrap();
    assert_eq!(server.fake.jwks_fetches.load(Ordering::SeqCst), 1);
    client.refresh_now().await.unwrap();
    assert_eq!(
        server.fake.jwks_fetches.load(Ordering::SeqCst),
        1,
        "known kid: no fetch"
    );

    // The server rotates: a new key, published next to the old one.
    let next = Signer::new("k2");
    server.fake.published.lock().unwrap().push(next.jwk.clone());
    *server.fake.signer.lock().unwrap() = next;
    client.refresh_now().await.unwrap();
    assert_eq!(server.fake.jwks_fetches.load(Ordering::SeqCst), 2);

    // A kid that is not published even after the refetch: one fetch, then refused.
    let stranger = Signer::new("k-stranger");
    server
        .fake
        .set_verify(move |f, req| Reply::token(stranger.sign(&f.valid_claims(req))));
    let result = client.refresh_now().await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::UnknownKey(_)))
    ));
    assert_eq!(server.fake.jwks_fetches.load(Ordering::SeqCst), 3);
    assert!(
        client.state().is_licensed(),
        "a refused answer changes nothing"
    );
}

#[tokio::test]
async fn pinned_keys_never_fetch_the_jwks() {
    let server = FakeServer::start().await;
    let next = Signer::new("k2");
    server.fake.published.lock().unwrap().push(next.jwk.clone());
    *server.fake.signer.lock().unwrap() = next;
    let client = server
        .builder_unpinned()
        .trusted_keys_json(
            &serde_json::json!({"keys":[server.fake.published.lock().unwrap()[0].clone()]})
                .to_string(),
        )
        .build()
        .unwrap();
    let result = client.refresh_now().await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::UnknownKey(_)))
    ));
    assert_eq!(server.fake.jwks_fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn replayed_token_with_another_nonce_is_rejected() {
    let server = FakeServer::start().await;
    let first: Mutex<Option<String>> = Mutex::new(None);
    server.fake.set_verify(move |f, req| {
        let mut first = first.lock().unwrap();
        let token = first
            .get_or_insert_with(|| f.sign(&f.valid_claims(req)))
            .clone();
        Reply::token(token)
    });
    let client = server.builder().build().unwrap();
    client.refresh_now().await.unwrap();
    let result = client.refresh_now().await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::NonceMismatch))
    ));
    assert!(client.diagnostics().last_error.unwrap().contains("nonce"));
}

#[tokio::test]
async fn expired_token_is_rejected() {
    let server = FakeServer::start().await;
    server.fake.set_verify(|f, req| {
        let mut claims = f.valid_claims(req);
        claims.iat -= 2 * LEASE;
        claims.exp -= 2 * LEASE;
        claims.refresh_after -= 2 * LEASE;
        Reply::token(f.sign(&claims))
    });
    let (client, result) = one_answer(&server).await;
    assert!(matches!(result, Err(CallError::Token(TokenError::Expired))));
    assert_never_verified(&client);
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let server = FakeServer::start().await;
    server.fake.set_verify(|f, req| {
        let claims = serde_json::to_vec(&f.valid_claims(req)).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        Reply::token(format!("{header}.{}.", URL_SAFE_NO_PAD.encode(claims)))
    });
    let (client, result) = one_answer(&server).await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::WrongAlgorithm))
    ));
    assert_never_verified(&client);
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_rejected() {
    let server = FakeServer::start().await;
    server.fake.set_verify(|f, req| {
        // The classic key-confusion attack: HMAC keyed with the public key.
        let x = f.published.lock().unwrap()[0]["x"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let token = jsonwebtoken::encode(
            &header,
            &f.valid_claims(req),
            &EncodingKey::from_secret(&URL_SAFE_NO_PAD.decode(x).unwrap()),
        )
        .unwrap();
        Reply::token(token)
    });
    let (client, result) = one_answer(&server).await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::WrongAlgorithm))
    ));
    assert_never_verified(&client);
}

#[tokio::test]
async fn token_for_another_install_is_rejected() {
    let server = FakeServer::start().await;
    server.fake.set_verify(|f, req| {
        let mut claims = f.valid_claims(req);
        claims.install_id = "other-install".into();
        Reply::token(f.sign(&claims))
    });
    let (client, result) = one_answer(&server).await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::WrongInstall))
    ));
    assert_never_verified(&client);
}

#[tokio::test]
async fn garbage_json_answer_is_rejected() {
    let server = FakeServer::start().await;
    server
        .fake
        .set_verify(|_, _| Reply::raw(200, b"{\"token\": [1, 2,, garbage".to_vec()));
    let (client, result) = one_answer(&server).await;
    assert!(matches!(result, Err(CallError::BadBody(_))));
    assert_never_verified(&client);
}

#[tokio::test]
async fn garbage_token_string_is_rejected() {
    let server = FakeServer::start().await;
    server
        .fake
        .set_verify(|_, _| Reply::token("not.a.token".into()));
    let (client, result) = one_answer(&server).await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::Malformed(_)))
    ));
    assert_never_verified(&client);
}

#[tokio::test]
async fn empty_body_is_rejected() {
    let server = FakeServer::start().await;
    server.fake.set_verify(|_, _| Reply::raw(200, Vec::new()));
    let (client, result) = one_answer(&server).await;
    assert!(matches!(result, Err(CallError::BadBody(_))));
    assert_never_verified(&client);
}

#[tokio::test]
async fn ten_megabyte_body_is_refused() {
    let server = FakeServer::start().await;
    server
        .fake
        .set_verify(|_, _| Reply::raw(200, vec![b'x'; 10 * 1024 * 1024]));
    let (client, result) = one_answer(&server).await;
    assert!(matches!(result, Err(CallError::TooLarge { .. })));
    assert_never_verified(&client);
}

#[tokio::test]
async fn jwks_with_a_short_key_is_ignored_not_a_panic() {
    let server = FakeServer::start().await;
    server.fake.published.lock().unwrap()[0]["x"] = "AAAA".into();
    let client = server.builder_unpinned().build().unwrap();
    let result = client.refresh_now().await;
    assert!(matches!(
        result,
        Err(CallError::Token(TokenError::UnknownKey(_)))
    ));
    assert_never_verified(&client);
    let built = server
        .builder_unpinned()
        .trusted_keys_json(r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"k1"}]}"#)
        .build();
    assert!(matches!(built, Err(calos_client::BuildError::BadKeys(_))));
}
