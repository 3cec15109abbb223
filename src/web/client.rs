//! The client's address for a page request: the socket's peer, or behind trusted proxies the
//! address they name (promo-code limits and contract audit trails use it).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

use crate::domain::client_addr;
use crate::state::AppState;

/// All lines of header `name` joined by commas, as one list.
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let lines: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
    (!lines.is_empty()).then(|| lines.join(","))
}

pub fn ip(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if state.trusted_proxies.is_empty() {
        return peer.ip();
    }
    let forwarded = joined(headers, "forwarded");
    let xff = joined(headers, "x-forwarded-for");
    client_addr::client_ip(peer.ip(), forwarded.as_deref(), xff.as_deref(), &state.trusted_proxies)
}
