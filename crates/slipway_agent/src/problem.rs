//! Errors as RFC 9457 problem documents (`application/problem+json`) with a stable
//! `code` a client can branch on.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: String,
    pub detail: String,
    pub extra: Map<String, Value>,
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &str,
        detail: impl Into<String>,
    ) -> Problem {
        Problem {
            status,
            code,
            title: title.into(),
            detail: detail.into(),
            extra: Map::new(),
            retry_after: None,
        }
    }

    #[must_use]
    pub fn with(mut self, key: &str, value: Value) -> Problem {
        self.extra.insert(key.into(), value);
        self
    }

    #[must_use]
    pub fn retry_after(mut self, secs: u64) -> Problem {
        self.retry_after = Some(secs);
        self
    }

    pub fn unauthorized(detail: &str) -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        )
    }

    pub fn validation(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "The request is not valid",
            detail,
        )
    }

    pub fn not_found(what: &str) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found", what)
    }

    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            detail,
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("https://slipway.invalid/problems/{}", self.code),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        if let Some(obj) = body.as_object_mut() {
            obj.extend(self.extra);
        }
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}
