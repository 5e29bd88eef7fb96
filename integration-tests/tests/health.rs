//! `GET /healthz`.

use reqwest::StatusCode;

use crate::helpers::{both_backends, spawn_app};

both_backends!(
    healthz_answers_200_when_the_database_answers,
    |backend| async move {
        let app = spawn_app(backend).await;

        let response = app.get_page("/healthz").await;

        assert_eq!(response.status(), StatusCode::OK);
    }
);
