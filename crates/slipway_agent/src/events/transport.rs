//! The two streaming transports of `/events`: an SSE response body and a WebSocket
//! session, each fed by a [`pump`](super::feed::pump) through a channel. Either ends
//! when its client goes, which drops the channel's receiver and so frees the
//! subscriber slot at once, events flowing or not. The WebSocket reads what the client
//! sends (a Close frame ends it), and pings every `ping_every`: a client that answers
//! nothing for that long is gone and is closed.

use axum::body::Body;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use std::time::Duration;
use tokio::sync::mpsc;

/// A `text/event-stream` response carrying what the pump sends.
pub fn sse(rx: mpsc::Receiver<Bytes>) -> Response {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// Relays what the pump sends as text messages until the client closes, stops
/// answering pings, or does not take a message within `stall`; or the pump ends.
pub async fn websocket(
    mut socket: WebSocket,
    mut rx: mpsc::Receiver<Bytes>,
    ping_every: Duration,
    stall: Duration,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let mut answered = true;
    loop {
        let out = tokio::select! {
            b = rx.recv() => match b {
                // Frames are JSON text, so valid UTF-8; a copy is made only if not.
                Some(b) => Message::Text(Utf8Bytes::try_from(b.clone()).unwrap_or_else(|_| String::from_utf8_lossy(&b).into_owned().into())),
                None => Message::Close(None),
            },
            m = socket.recv() => match m {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                // Pings are answered by the socket itself; anything heard means alive.
                Some(Ok(_)) => {
                    answered = true;
                    continue;
                }
            },
            _ = ping.tick() => {
                if !answered {
                    return;
                }
                answered = false;
                Message::Ping(Bytes::new())
            }
        };
        let closing = matches!(out, Message::Close(_));
        match tokio::time::timeout(stall, socket.send(out)).await {
            Ok(Ok(())) if !closing => {}
            _ => return,
        }
    }
}
