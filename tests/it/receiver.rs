//! A merchant's webhook endpoint for tests: an HTTP server on 127.0.0.1 recording what arrives,
//! and `eventually`, a bounded poll for things that happen in the background.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Hit {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Hit {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

type ReceiverState = (Arc<Mutex<Vec<Hit>>>, Arc<AtomicUsize>);

/// A merchant's webhook endpoint: an HTTP server on 127.0.0.1 recording headers and raw bodies.
/// It answers 500 to its first `fail_first` requests and 200 afterwards.
pub struct Receiver {
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    pub async fn start(fail_first: usize) -> Receiver {
        async fn hook(State((hits, failures)): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> StatusCode {
            hits.lock().unwrap().push(Hit { headers, body: body.to_vec() });
            let failing = failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
            if failing { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
        }
        let hits = Arc::new(Mutex::new(Vec::new()));
        let state: ReceiverState = (hits.clone(), Arc::new(AtomicUsize::new(fail_first)));
        let router = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { url, hits }
    }

    /// One that never answers 2xx.
    pub async fn always_failing() -> Receiver {
        Receiver::start(usize::MAX).await
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Wait until `n` requests have arrived, and return them.
    pub async fn wait_for(&self, n: usize) -> Vec<Hit> {
        eventually(&format!("{n} request(s) at {}", self.url), || async {
            let hits = self.hits();
            (hits.len() >= n).then_some(hits)
        })
        .await
    }
}

/// Poll `check` every 50 ms until it gives a value; fail the test after 10 s.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(10);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}
