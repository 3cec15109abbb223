//! A local stand-in for Stripe's REST API (the part Kasse's adapter uses), speaking the documented protocol:
//! form-encoded POSTs with bracket keys, Bearer auth, idempotency keys, Stripe's object and error JSON and its test
//! payment methods, so the real async-stripe client can be pointed at it. It also plays Stripe's browser side for
//! the real-browser tests: a small Stripe.js at `/v3/` whose Payment Element is an iframe served from here, which
//! confirms from the customer's page with the publishable key and the intent's client secret, as Stripe.js does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rand::distr::{Alphanumeric, SampleString};
use serde_json::{Map, Value, json};

/// The API version async-stripe 1.0.0-rc.10 pins; events carry it as Stripe's do.
const API_VERSION: &str = "2026-09-30.endive";

/// The stand-in for Stripe.js v3 at `/v3/`: `Stripe(pk)`, `elements({clientSecret})`, `create('payment')` with
/// `mount` and `on('ready' | 'change')`, and `confirmPayment` / `confirmSetup({elements, confirmParams})`. The
/// element is an iframe served from here (the page's frame-src must allow it); on confirm the card number comes from
/// the frame by postMessage, Stripe's test numbers map to their `pm_card_*` tokens (anything else is refused like
/// Stripe.js refuses an invalid number, without a request) and the confirm is POSTed from the page (its connect-src
/// must allow the API) as Stripe.js sends it: a form with `key`, `client_secret`, `payment_method`, `return_url`.
/// Success navigates to `return_url` with Stripe's query; an error resolves `{error}`.
const STRIPE_JS: &str = r##"// Stripe double: a stand-in for Stripe.js v3 (the part a Payment Element integration uses).
(function () {
  'use strict';
  var script = document.currentScript;
  // Stripe.js, its frames and the API are one server here.
  var origin = new URL(script ? script.src : location.href).origin;
  // Stripe's documented test card numbers.
  var TEST_CARDS = {
    '4242424242424242': 'pm_card_visa',
    '4000000000000002': 'pm_card_chargeDeclined',
    '4000002760003184': 'pm_card_authenticationRequired',
  };
  var frames = 0;

  function integrationError(message) {
    var e = new Error(message);
    e.name = 'IntegrationError';
    return e;
  }

  function createElement(type) {
    var handlers = {};
    var iframe = null;
    var pending = {};
    var asked = 0;
    function emit(event, payload) {
      (handlers[event] || []).forEach(function (handler) {
        handler(payload);
      });
    }
    window.addEventListener('message', function (event) {
      if (!iframe || event.source !== iframe.contentWindow || event.origin !== origin) return;
      var data = event.data || {};
      if (data.type === 'ready') {
        if (data.height) iframe.style.height = data.height + 'px';
        emit('ready', { elementType: type });
      } else if (data.type === 'change') {
        emit('change', { elementType: type, empty: !!data.empty, complete: !!data.complete });
      } else if (data.type === 'card' && pending[data.id]) {
        pending[data.id](String(data.number || ''));
        delete pending[data.id];
      }
    });
    return {
      mount: function (target) {
        var container = typeof target === 'string' ? document.querySelector(target) : target;
        if (!container) throw integrationError('The selector you specified (' + target + ') applies to no DOM elements.');
        iframe = document.createElement('iframe');
        iframe.name = '__privateStripeFrame' + ++frames;
        iframe.title = 'Secure payment input frame';
        iframe.setAttribute('allow', 'payment *');
        // Set through the CSSOM: the page's CSP may refuse style attributes.
        iframe.style.display = 'block';
        iframe.style.border = '0';
        iframe.style.width = '100%';
        iframe.style.height = '96px';
        iframe.src = origin + '/v3/elements-frame?type=' + encodeURIComponent(type) +
          '&origin=' + encodeURIComponent(location.origin);
        container.appendChild(iframe);
      },
      on: function (event, handler) {
        (handlers[event] = handlers[event] || []).push(handler);
        return this;
      },
      // What the customer typed; only Stripe's own code may ask the frame for it.
      _collect: function () {
        if (!iframe) return Promise.reject(integrationError('The Payment Element is not mounted.'));
        var id = ++asked;
        return new Promise(function (done) {
          pending[id] = done;
          iframe.contentWindow.postMessage({ type: 'collect', id: id }, origin);
        });
      },
    };
  }

  function Stripe(key) {
    if (typeof key !== 'string' || key.indexOf('pk_') !== 0) {
      throw integrationError('Invalid value for Stripe(): apiKey should be a publishable key (pk_…).');
    }

    function confirm(kind, params) {
      var elements = params && params.elements;
      var returnUrl = params && params.confirmParams && params.confirmParams.return_url;
      if (!elements || !elements._element) {
        return Promise.reject(integrationError('Invalid value for confirm' + kind + '(): elements should have a mounted Payment Element.'));
      }
      if (!returnUrl) {
        return Promise.reject(integrationError('confirm' + kind + '(): the `confirmParams.return_url` argument is required.'));
      }
      var object = kind === 'Setup' ? 'setup_intent' : 'payment_intent';
      var secret = elements._clientSecret;
      return elements._element._collect().then(function (number) {
        var method = TEST_CARDS[number.replace(/[\s-]/g, '')];
        if (!method) {
          return { error: { type: 'validation_error', code: 'invalid_number', message: 'Your card number is invalid.' } };
        }
        var id = secret.split('_secret_')[0];
        var body = new URLSearchParams({ key: key, client_secret: secret, payment_method: method, return_url: returnUrl });
        var url = origin + '/v1/' + object + 's/' + encodeURIComponent(id) + '/confirm';
        return fetch(url, { method: 'POST', body: body }).then(
          function (response) {
            return response.json().then(function (json) {
              if (!response.ok) return { error: json.error || { type: 'api_error', message: 'An unknown error occurred.' } };
              var back = new URL(returnUrl);
              back.searchParams.set(object, json.id);
              back.searchParams.set(object + '_client_secret', secret);
              // An accepted debit (processing) comes back as succeeded too; the server reads the intent anyway.
              var accepted = json.status === 'succeeded' || json.status === 'processing';
              back.searchParams.set('redirect_status', accepted ? 'succeeded' : 'failed');
              window.location.assign(back.toString());
              // Like Stripe.js: the promise stays pending while the browser leaves.
              return new Promise(function () {});
            });
          },
          function () {
            return { error: { type: 'api_connection_error', message: 'We could not connect to Stripe. Check your connection and try again.' } };
          },
        );
      });
    }

    return {
      elements: function (options) {
        var clientSecret = options && options.clientSecret;
        if (typeof clientSecret !== 'string' || clientSecret.indexOf('_secret_') < 0) {
          throw integrationError('Invalid value for elements(): clientSecret should be a client secret of the form ${id}_secret_${secret}.');
        }
        var elements = { _clientSecret: clientSecret, _element: null };
        elements.create = function (type) {
          if (type !== 'payment') throw integrationError('The Stripe double only has the Payment Element, not ' + type + '.');
          elements._element = createElement(type);
          return elements._element;
        };
        return elements;
      },
      confirmPayment: function (params) {
        return confirm('Payment', params);
      },
      confirmSetup: function (params) {
        return confirm('Setup', params);
      },
    };
  }

  window.Stripe = Stripe;
})();
"##;

/// The Payment Element's frame at `/v3/elements-frame?origin=…`: a labelled card number field that answers the
/// parent's Stripe.js (and only the origin it was mounted from) by postMessage.
const ELEMENT_FRAME: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Payment details</title>
<style>
  body { margin: 0; padding: 2px; font: 16px/1.4 system-ui, sans-serif; color: #1a1a1a; background: #fff; }
  label { display: block; margin: 0 0 4px; font-weight: 600; }
  input { box-sizing: border-box; width: 100%; padding: 10px 12px; font: inherit; border: 1px solid #6b7280; border-radius: 6px; }
  input:focus { outline: 2px solid #2445c8; outline-offset: 1px; }
  p { margin: 6px 0 0; font-size: 14px; color: #4b5563; }
</style>
</head>
<body>
<label for="cardnumber">Card number</label>
<input id="cardnumber" name="cardnumber" inputmode="numeric" autocomplete="cc-number" aria-describedby="test-cards">
<p id="test-cards">Stripe double: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.</p>
<script>
(function () {
  'use strict';
  var parentOrigin = new URLSearchParams(location.search).get('origin');
  var input = document.getElementById('cardnumber');
  function post(message) {
    // The number goes to the page that mounted the element, and to no other.
    if (parentOrigin) window.parent.postMessage(message, parentOrigin);
  }
  window.addEventListener('message', function (event) {
    if (event.source !== window.parent || event.origin !== parentOrigin) return;
    if (event.data && event.data.type === 'collect') post({ type: 'card', id: event.data.id, number: input.value });
  });
  input.addEventListener('input', function () {
    var digits = input.value.replace(/\D/g, '');
    post({ type: 'change', empty: digits === '', complete: digits.length >= 15 });
  });
  post({ type: 'ready', height: document.documentElement.scrollHeight });
})();
</script>
</body>
</html>
"##;

/// One request the double received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: String,
    pub idempotency_key: Option<String>,
    pub stripe_version: Option<String>,
    pub content_type: Option<String>,
    /// The form body (POST) or the query (GET), percent-decoded, in order: `("metadata[kasse_payment_id]", "pay_1")`.
    pub params: Vec<(String, String)>,
}

impl Recorded {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// What one of Stripe's test payment methods does when confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Card {
    Succeeds,
    Declines,
    /// 3-D Secure: needs the customer, so off-session it fails and on-session it waits for them.
    Authenticates,
    /// Not a Stripe token: `pm_card_processing` stands in for SEPA debits, which stay `processing` for days.
    Processing,
}

/// An HTTP status and Stripe's JSON body.
type Reply = (StatusCode, Value);

/// A response stored under an idempotency key, with what it answered.
struct Stored {
    fingerprint: (String, String, Vec<(String, String)>),
    reply: Reply,
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    fail: usize,
    /// (requests left to delay, by how long, the path prefix they must start with; "" for any).
    delay: (usize, Duration, String),
    replies: HashMap<String, Stored>,
    customers: HashMap<String, Value>,
    methods: HashMap<String, (Value, Card)>,
    /// PaymentIntents and SetupIntents, stored with `payment_method` as an id.
    intents: HashMap<String, Value>,
    created: usize,
    seq: u64,
    /// Payment method types the account has activated besides cards (`activate("sepa_debit")`).
    activated: Vec<String>,
}

type Shared = Arc<Mutex<Inner>>;

/// Stripe on 127.0.0.1: see the module docs. Dropping it stops the server.
pub struct StripeDouble {
    url: String,
    inner: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for StripeDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A panic in one test's handler must not hide the state from the assertions that follow.
fn lock(inner: &Shared) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}

impl StripeDouble {
    pub const SECRET_KEY: &'static str = "sk_test_double";

    pub async fn start() -> StripeDouble {
        let inner = Shared::default();
        let router = axum::Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the Stripe double");
        let url = format!("http://{}", listener.local_addr().expect("the double's address"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        StripeDouble { url, inner, server }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.inner).requests.clone()
    }

    pub fn requests_to(&self, method: &str, path_prefix: &str) -> Vec<Recorded> {
        let state = lock(&self.inner);
        let matching = state.requests.iter().filter(|r| r.method.eq_ignore_ascii_case(method));
        matching.filter(|r| r.path.starts_with(path_prefix)).cloned().collect()
    }

    /// The next `n` requests (any path) are processed normally (objects created, idempotency stored) but the
    /// response is held for `delay` before it is sent, so a client with a shorter timeout gives up: Stripe did the
    /// work but the client never heard. A retry with the same Idempotency-Key must then get the stored response.
    pub fn delay_next(&self, n: usize, delay: Duration) {
        lock(&self.inner).delay = (n, delay, String::new());
    }

    /// `delay_next` for the next `n` requests whose path starts with `path_prefix` only; others answer at once.
    pub fn delay_next_to(&self, path_prefix: &str, n: usize, delay: Duration) {
        lock(&self.inner).delay = (n, delay, path_prefix.to_owned());
    }

    /// Activate a payment method type on the account (only cards are, at first, as in a new
    /// Stripe account); intents asking for one that is not are refused with a 400.
    pub fn activate(&self, method_type: &str) {
        lock(&self.inner).activated.push(method_type.to_string());
    }

    /// The next `n` requests answer 500 with Stripe's api_error body without doing anything.
    pub fn fail_next(&self, n: usize) {
        lock(&self.inner).fail = n;
    }

    /// Simulate the customer finishing Stripe's Payment Element for an intent (what Stripe.js's confirmPayment does):
    /// attaches the payment method and moves the intent to its outcome. Returns the intent JSON. In the browser the
    /// customer passes 3-D Secure, so `pm_card_authenticationRequired` succeeds here, and an intent in
    /// `requires_action` succeeds with the payment method it already has. Panics on an unknown intent or payment
    /// method, or an intent Stripe.js would refuse to confirm (succeeded, processing, canceled).
    pub fn customer_confirms(&self, intent_id: &str, payment_method: &str) -> Value {
        let mut state = lock(&self.inner);
        let intent = state.intents.get(intent_id).unwrap_or_else(|| panic!("no intent {intent_id} in the double"));
        let (status, customer, current) =
            (str_of(intent, "status"), intent["customer"].clone(), intent["payment_method"].clone());
        let method = match status.as_str() {
            "requires_action" => {
                current.as_str().map(str::to_owned).expect("an intent in requires_action has a method")
            }
            "requires_payment_method" | "requires_confirmation" => {
                let customer = customer.as_str().map(str::to_owned);
                state.resolve(payment_method, customer.as_deref()).expect("a known or test payment method")
            }
            other => panic!("customer_confirms: {intent_id} is {other}; Stripe.js would refuse to confirm it"),
        };
        let _ = state.attempt(intent_id, &method, false, true);
        state.intents[intent_id].clone()
    }

    /// Change what Stripe holds for an intent (as a payment page elsewhere, or a mixed-up link,
    /// would leave it): `field` of intent `id` becomes `value`.
    pub fn set_intent_field(&self, id: &str, field: &str, value: Value) {
        let mut state = lock(&self.inner);
        let intent = state.intents.get_mut(id).unwrap_or_else(|| panic!("no intent {id} in the double"));
        intent[field] = value;
    }

    pub fn intent(&self, id: &str) -> Option<Value> {
        lock(&self.inner).intents.get(id).cloned()
    }

    /// PaymentIntents + SetupIntents actually created (idempotent replays don't count).
    pub fn intents_created(&self) -> usize {
        lock(&self.inner).created
    }

    /// A Stripe event wrapping `object`, as a webhook delivers it.
    pub fn event(&self, event_type: &str, object: Value) -> Value {
        let id = lock(&self.inner).id("evt");
        json!({
            "id": id, "object": "event", "type": event_type, "created": now(), "livemode": false,
            "api_version": API_VERSION, "data": {"object": object}, "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null},
        })
    }
}

/// The `Stripe-Signature` header value for `body` at `timestamp` with `secret`.
pub fn signature(body: &[u8], secret: &str, timestamp: i64) -> String {
    kasse::payments::stripe::signature::sign(body, secret, timestamp)
}

async fn handle(State(inner): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    // Stripe.js and its frames come from js.stripe.com, not the API: served, not recorded.
    if method == Method::GET {
        match uri.path() {
            "/v3" | "/v3/" => return asset("application/javascript; charset=utf-8", STRIPE_JS),
            "/v3/elements-frame" => return asset("text/html; charset=utf-8", ELEMENT_FRAME),
            _ => {}
        }
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_type = header("content-type");
    let form = content_type.as_deref().is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let raw = match method {
        Method::POST if form => String::from_utf8_lossy(&body).into_owned(),
        Method::POST => String::new(),
        _ => uri.query().unwrap_or("").to_owned(),
    };
    let recorded = Recorded {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        authorization: header("authorization").unwrap_or_default(),
        idempotency_key: header("idempotency-key"),
        stripe_version: header("stripe-version"),
        content_type,
        params: decode_form(&raw),
    };
    if method == Method::OPTIONS {
        lock(&inner).requests.push(recorded);
        return preflight(header("access-control-request-headers"));
    }
    let (reply, replayed, delay) = {
        let mut state = lock(&inner);
        state.requests.push(recorded.clone());
        if state.fail > 0 {
            state.fail -= 1;
            let message = "An unknown error occurred while processing your request.";
            (error(StatusCode::INTERNAL_SERVER_ERROR, "api_error", None, None, message.into()), false, None)
        } else {
            let delay = (state.delay.0 > 0 && recorded.path.starts_with(&state.delay.2)).then(|| {
                state.delay.0 -= 1;
                state.delay.1
            });
            let (reply, replayed) = state.serve(&recorded, method == Method::POST && !form && !body.is_empty());
            (reply, replayed, delay)
        }
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = (reply.0, [(CONTENT_TYPE, "application/json")], reply.1.to_string()).into_response();
    let request_id = format!("req_{}", random(14));
    let version = recorded.stripe_version.as_deref().unwrap_or(API_VERSION);
    // Like api.stripe.com, every answer may be read by any page: Stripe.js calls the API from the customer's page.
    let echoed = [
        ("request-id", Some(request_id.as_str())),
        ("stripe-version", Some(version)),
        ("access-control-allow-origin", Some("*")),
    ];
    let replay =
        [("idempotency-key", recorded.idempotency_key.as_deref()), ("idempotent-replayed", replayed.then_some("true"))];
    for (name, value) in echoed.into_iter().chain(replay) {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            response.headers_mut().insert(HeaderName::from_static(name), value);
        }
    }
    response
}

/// A static file of the browser side, never cached (each test run may serve another version).
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (StatusCode::OK, [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-store")], body).into_response()
}

/// The answer to a CORS preflight. Stripe.js's form POSTs are "simple" requests that need none; a page sending the
/// Bearer key or JSON would ask first, and is allowed to as api.stripe.com allows it (the key check still applies).
fn preflight(requested_headers: Option<String>) -> Response {
    let allowed = requested_headers.unwrap_or_else(|| "authorization, content-type, idempotency-key".to_owned());
    let headers = [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "GET, POST, DELETE"),
        ("access-control-allow-headers", allowed.as_str()),
        ("access-control-max-age", "300"),
    ];
    let mut response = StatusCode::NO_CONTENT.into_response();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(HeaderName::from_static(name), value);
        }
    }
    response
}

/// Who a request speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    /// The server, with the secret key.
    Server,
    /// Stripe.js on the customer's page: a test publishable key (`key=pk_test_…` in the form, as Stripe.js sends
    /// it, or as Bearer), allowed only to confirm an intent whose client secret it holds.
    Browser,
}

impl Inner {
    /// Auth, body format, idempotency, then the endpoint.
    fn serve(&mut self, r: &Recorded, unreadable_body: bool) -> (Reply, bool) {
        let caller = match authenticate(r) {
            Ok(caller) => caller,
            Err(reply) => return (reply, false),
        };
        if unreadable_body {
            let message = "Invalid request: the body must be application/x-www-form-urlencoded.";
            return (error(StatusCode::BAD_REQUEST, "invalid_request_error", None, None, message.into()), false);
        }
        let key = if r.method == "POST" { r.idempotency_key.clone() } else { None };
        // Stripe compares parameters, not their order (async-stripe serializes metadata from a HashMap).
        let mut params = r.params.clone();
        params.sort();
        let fingerprint = (r.method.clone(), r.path.clone(), params);
        if let Some(stored) = key.as_ref().and_then(|k| self.replies.get(k)) {
            if stored.fingerprint == fingerprint {
                return (stored.reply.clone(), true);
            }
            let message = format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. \
                 Try using a key other than '{}' if you meant to execute a different request.",
                key.as_deref().unwrap_or_default()
            );
            return (error(StatusCode::BAD_REQUEST, "idempotency_error", None, None, message), false);
        }
        let reply = self.route(r, caller);
        // As Stripe documents, a result is saved once the endpoint ran: successes and card errors (402), not
        // requests that failed validation (400, 404).
        if let Some(key) = key.filter(|_| reply.0.is_success() || reply.0 == StatusCode::PAYMENT_REQUIRED) {
            self.replies.insert(key, Stored { fingerprint, reply: reply.clone() });
        }
        (reply, false)
    }

    fn route(&mut self, r: &Recorded, caller: Caller) -> Reply {
        let p = Params(&r.params);
        let segments: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
        let result = match (r.method.as_str(), segments.as_slice()) {
            ("POST", ["v1", "customers"]) => Ok(self.create_customer(&p)),
            ("GET", ["v1", "customers", id]) => {
                self.customers.get(*id).cloned().ok_or_else(|| not_found("customer", id))
            }
            ("POST", ["v1", "payment_intents"]) => self.create_intent("payment_intent", &p),
            ("POST", ["v1", "setup_intents"]) => self.create_intent("setup_intent", &p),
            ("GET", ["v1", "payment_intents", id]) => self.find("payment_intent", id).cloned(),
            ("GET", ["v1", "setup_intents", id]) => self.find("setup_intent", id).cloned(),
            ("POST", ["v1", "payment_intents", id, "confirm"]) => self.confirm("payment_intent", id, &p, caller),
            ("POST", ["v1", "setup_intents", id, "confirm"]) => self.confirm("setup_intent", id, &p, caller),
            ("GET", ["v1", "payment_methods", id]) => {
                self.methods.get(*id).map(|(m, _)| m.clone()).ok_or_else(|| not_found("payment_method", id))
            }
            _ => {
                let message = format!("Unrecognized request URL ({}: {}).", r.method, r.path);
                Err(error(StatusCode::NOT_FOUND, "invalid_request_error", None, None, message))
            }
        };
        match result {
            Ok(object) => (StatusCode::OK, self.expand(object, &p.list("expand"))),
            Err(reply) => reply,
        }
    }

    fn id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}_{}{:04}", random(16), self.seq)
    }

    fn find(&self, object: &str, id: &str) -> Result<&Value, Reply> {
        self.intents.get(id).filter(|v| v["object"] == object).ok_or_else(|| not_found(object, id))
    }

    /// `expand[]=payment_method` / `customer`: the stored object in place of its id.
    fn expand(&self, mut object: Value, expand: &[String]) -> Value {
        for field in expand {
            let id = object[field.as_str()].as_str().unwrap_or_default().to_owned();
            let found = match field.as_str() {
                "payment_method" => self.methods.get(&id).map(|(m, _)| m.clone()),
                "customer" => self.customers.get(&id).cloned(),
                _ => None,
            };
            if let Some(found) = found {
                object[field.as_str()] = found;
            }
        }
        object
    }

    fn create_customer(&mut self, p: &Params) -> Value {
        let id = self.id("cus");
        let fields = json!({
            "balance": 0, "delinquent": false, "description": p.get("description"), "email": p.get("email"),
            "invoice_prefix": id[4..12].to_uppercase(), "name": p.get("name"), "metadata": p.map("metadata"),
            "invoice_settings": {"custom_fields": null, "default_payment_method": null, "footer": null,
                "rendering_options": null},
            "next_invoice_sequence": 1, "preferred_locales": [], "tax_exempt": "none",
        });
        let nulls = "address currency default_source discount phone shipping test_clock";
        let customer = stripe_object("customer", &id, nulls, fields);
        self.customers.insert(id, customer.clone());
        customer
    }

    /// `POST /v1/payment_intents` and `POST /v1/setup_intents`: validate everything, then create, then confirm.
    fn create_intent(&mut self, object: &str, p: &Params) -> Result<Value, Reply> {
        let payment = object == "payment_intent";
        let mut fields = Map::new();
        if payment {
            let amount = p.get("amount").ok_or_else(|| missing("amount"))?;
            let amount = amount.parse::<i64>().ok().filter(|a| *a >= 1).ok_or_else(|| {
                invalid("amount", Some("parameter_invalid_integer"), &format!("Invalid positive integer: {amount}"))
            })?;
            let currency = p.get("currency").ok_or_else(|| missing("currency"))?;
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(invalid("currency", None, &format!("Invalid currency: {currency}.")));
            }
            // Stripe's minimum charge (USD, EUR, and most others: 50 minor units).
            if amount < 50 {
                let message = format!("Amount must be at least 50 minor units of {currency}.");
                return Err(invalid("amount", Some("amount_too_small"), &message));
            }
            let usage = p.get("setup_future_usage").map(|u| usage("setup_future_usage", u)).transpose()?;
            fields.extend(json_map(json!({
                "amount": amount, "amount_capturable": 0, "amount_details": {"tip": {}}, "amount_received": 0,
                "capture_method": "automatic", "confirmation_method": "automatic", "currency": currency,
                "receipt_email": p.get("receipt_email"), "setup_future_usage": usage,
            })));
        } else {
            fields.insert("usage".into(), usage("usage", p.get("usage").unwrap_or("off_session"))?.into());
        }
        let customer = p.get("customer");
        if let Some(c) = customer.filter(|c| !self.customers.contains_key(*c)) {
            return Err(invalid("customer", Some("resource_missing"), &format!("No such customer: '{c}'")));
        }
        let off_session = payment && matches!(p.get("off_session"), Some("true" | "one_off" | "recurring"));
        let confirm = p.get("confirm") == Some("true");
        if off_session && !confirm {
            return Err(invalid("off_session", None, "off_session can only be used with confirm=true."));
        }
        if confirm && p.get("payment_method").is_none() {
            return Err(unexpected_state(object, "is missing a payment method", None));
        }
        let method = p.get("payment_method").map(|m| self.resolve(m, customer)).transpose()?;
        // Types asked for (`payment_method_types[]`, or `allowed_payment_method_types[]` as the client's API version
        // sends them); otherwise automatic payment methods, Stripe's default, which the double limits to cards.
        let allowed = p.list("allowed_payment_method_types");
        let mut types = p.list("payment_method_types");
        types.extend(allowed.iter().cloned());
        if let Some(t) = types.iter().find(|t| *t != "card" && !self.activated.contains(t)) {
            let message = format!(
                "The payment method type \"{t}\" is invalid. Please ensure the provided type is activated in your \
                 dashboard (https://dashboard.stripe.com/account/payments/settings) and your account is enabled for \
                 any preview features that you are trying to use."
            );
            return Err(invalid("payment_method_types", None, &message));
        }
        let automatic = if types.is_empty() {
            types.push("card".into());
            json!({"allow_redirects": "always", "enabled": true})
        } else {
            Value::Null
        };
        let id = self.id(if payment { "pi" } else { "seti" });
        let options = if types.iter().any(|t| t == "card") {
            json!({"card": {"mandate_options": null, "network": null, "request_three_d_secure": "automatic"}})
        } else {
            json!({})
        };
        fields.extend(json_map(json!({
            "allowed_payment_method_types": if allowed.is_empty() { Value::Null } else { json!(allowed) },
            "automatic_payment_methods": automatic, "client_secret": format!("{id}_secret_{}", random(25)),
            "customer": customer, "description": p.get("description"), "metadata": p.map("metadata"),
            "payment_method": method, "payment_method_options": options, "payment_method_types": types,
            "status": if method.is_some() { "requires_confirmation" } else { "requires_payment_method" },
        })));
        let nulls = if payment {
            "application application_fee_amount canceled_at cancellation_reason excluded_payment_method_types \
             last_payment_error latest_charge next_action on_behalf_of payment_method_configuration_details processing \
             review shipping source statement_descriptor statement_descriptor_suffix transfer_data transfer_group"
        } else {
            "application cancellation_reason excluded_payment_method_types flow_directions last_setup_error \
             latest_attempt mandate next_action on_behalf_of payment_method_configuration_details single_use_mandate"
        };
        self.intents.insert(id.clone(), stripe_object(object, &id, nulls, Value::Object(fields)));
        self.created += 1;
        match method {
            Some(method) if confirm => self.attempt(&id, &method, off_session, false),
            _ => Ok(self.intents[&id].clone()),
        }
    }

    /// `POST /v1/{payment,setup}_intents/{id}/confirm`. Server-side there is no customer at hand for 3-D Secure;
    /// from the browser (Stripe.js, with the intent's client secret) the customer passes it.
    fn confirm(&mut self, object: &str, id: &str, p: &Params, caller: Caller) -> Result<Value, Reply> {
        let intent = self.find(object, id)?;
        if caller == Caller::Browser {
            let secret = p.get("client_secret").ok_or_else(|| missing("client_secret"))?;
            if intent["client_secret"].as_str() != Some(secret) {
                let name = if object == "payment_intent" { "PaymentIntent" } else { "SetupIntent" };
                let message =
                    format!("The client_secret provided does not match the client_secret associated with the {name}.");
                return Err(invalid("client_secret", None, &message));
            }
        }
        let (status, customer, current) =
            (str_of(intent, "status"), intent["customer"].clone(), intent["payment_method"].clone());
        if !matches!(status.as_str(), "requires_payment_method" | "requires_confirmation" | "requires_action") {
            return Err(unexpected_state(object, &format!("has a status of {status}"), Some(intent.clone())));
        }
        let method = match (p.get("payment_method"), current.as_str()) {
            (Some(token), _) => self.resolve(token, customer.as_str())?,
            (None, Some(current)) => current.to_owned(),
            (None, None) => return Err(unexpected_state(object, "is missing a payment method", Some(intent.clone()))),
        };
        let off_session =
            object == "payment_intent" && matches!(p.get("off_session"), Some("true" | "one_off" | "recurring"));
        self.attempt(id, &method, off_session, caller == Caller::Browser)
    }

    /// A stored payment method id, or one of Stripe's `pm_card_*` test tokens made into a new payment method.
    fn resolve(&mut self, token: &str, customer: Option<&str>) -> Result<String, Reply> {
        if self.methods.contains_key(token) {
            return Ok(token.to_owned());
        }
        let Some(name) = token.strip_prefix("pm_card_") else {
            let message = format!("No such PaymentMethod: '{token}'");
            return Err(invalid("payment_method", Some("resource_missing"), &message));
        };
        let (card, brand, last4) = match name {
            "chargeDeclined" => (Card::Declines, "visa", "0002"),
            "authenticationRequired" => (Card::Authenticates, "visa", "3184"),
            "processing" => (Card::Processing, "visa", "4242"),
            "mastercard" => (Card::Succeeds, "mastercard", "4444"),
            "amex" => (Card::Succeeds, "amex", "8431"),
            _ => (Card::Succeeds, "visa", "4242"),
        };
        let id = self.id("pm");
        let fields = json!({
            "allow_redisplay": "unspecified", "customer": customer, "metadata": {}, "type": "card",
            "billing_details": {"email": null, "name": null, "phone": null, "tax_id": null, "address": {"city": null,
                "country": null, "line1": null, "line2": null, "postal_code": null, "state": null}},
            "card": {"brand": brand, "country": "US", "display_brand": brand, "exp_month": 12, "exp_year": 2034,
                "checks": {"address_line1_check": null, "address_postal_code_check": null, "cvc_check": "pass"},
                "fingerprint": format!("Dbl{brand}{last4}"), "funding": "credit", "generated_from": null,
                "last4": last4, "networks": {"available": [brand], "preferred": null},
                "regulated_status": "unregulated", "three_d_secure_usage": {"supported": true}, "wallet": null},
        });
        let method = stripe_object("payment_method", &id, "", fields);
        self.methods.insert(id.clone(), (method, card));
        Ok(id)
    }

    /// Confirm intent `id` with `method`: the outcome the test card dictates. `in_browser`: the customer is there
    /// to pass 3-D Secure. Off-session, an authentication-required card fails like Stripe documents it: 402
    /// `authentication_required`, the intent back in `requires_payment_method` with the method in
    /// `last_payment_error.payment_method`, for the customer to come back and confirm on-session.
    fn attempt(&mut self, id: &str, method: &str, off_session: bool, in_browser: bool) -> Result<Value, Reply> {
        let (object, card) = self.methods.get(method).cloned().unwrap_or((Value::Null, Card::Succeeds));
        let charge = self.id("ch");
        let attempt = self.id("setatt");
        let intent = self.intents.get_mut(id).ok_or_else(|| not_found("payment_intent", id))?;
        let payment = intent["object"] == "payment_intent";
        let error_field = if payment { "last_payment_error" } else { "last_setup_error" };
        let (code, decline, message) = match card {
            Card::Declines => ("card_declined", "generic_decline", "Your card was declined."),
            Card::Authenticates if off_session => (
                "authentication_required",
                "authentication_required",
                "Your card was declined. This transaction requires authentication.",
            ),
            _ => ("", "", ""),
        };
        // The charge exists once the card was tried: declined, processing or paid, not while 3-D Secure waits.
        let status = match card {
            _ if !code.is_empty() => "requires_payment_method",
            Card::Authenticates if !in_browser => "requires_action",
            Card::Processing if payment => "processing",
            _ => "succeeded",
        };
        let charged = payment && (card == Card::Declines || matches!(status, "processing" | "succeeded"));
        intent["latest_charge"] = if charged { charge.clone().into() } else { intent["latest_charge"].take() };
        if !payment {
            intent["latest_attempt"] = attempt.into();
        }
        intent["status"] = status.into();
        intent["payment_method"] = method.into();
        intent[error_field] = Value::Null;
        intent["next_action"] = Value::Null;
        if !code.is_empty() {
            let (_, mut body) = error(StatusCode::PAYMENT_REQUIRED, "card_error", Some(code), None, message.into());
            let mut failure = json_map(body["error"].take());
            failure.insert("decline_code".into(), decline.into());
            failure.insert("payment_method".into(), object);
            if charged {
                failure.insert("charge".into(), charge.into());
            }
            intent[error_field] = Value::Object(failure.clone());
            intent["payment_method"] = Value::Null;
            failure.insert(if payment { "payment_intent" } else { "setup_intent" }.into(), intent.clone());
            return Err((StatusCode::PAYMENT_REQUIRED, json!({"error": failure})));
        }
        if status == "requires_action" {
            intent["next_action"] =
                json!({"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}});
        } else if status == "succeeded" && payment {
            intent["amount_received"] = intent["amount"].clone();
        }
        let (intent, customer) = (intent.clone(), intent["customer"].clone());
        if let Some((m, _)) = self.methods.get_mut(method).filter(|_| customer.is_string()) {
            m["customer"] = customer;
        }
        Ok(intent)
    }
}

/// The secret key, or a test publishable key on the one endpoint Stripe.js may call with it here (confirm).
fn authenticate(r: &Recorded) -> Result<Caller, Reply> {
    let bearer = r.authorization.strip_prefix("Bearer ").unwrap_or_default();
    if bearer == StripeDouble::SECRET_KEY {
        return Ok(Caller::Server);
    }
    let form_key = r.param("key").unwrap_or_default();
    let key = if bearer.is_empty() { form_key } else { bearer };
    if !key.starts_with("pk_") {
        return Err(unauthorized(&r.authorization));
    }
    if !key.starts_with("pk_test_") {
        return Err(unauthorized(&format!("Bearer {key}")));
    }
    let segments: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
    match (r.method.as_str(), segments.as_slice()) {
        ("POST", ["v1", "payment_intents" | "setup_intents", _, "confirm"]) => Ok(Caller::Browser),
        _ => {
            let message = "This API call cannot be made with a publishable API key. Please use a secret API key. You \
                           can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.";
            Err(error(StatusCode::UNAUTHORIZED, "invalid_request_error", None, None, message.to_owned()))
        }
    }
}

/// Decoded form or query parameters in Stripe's bracket encoding.
struct Params<'a>(&'a [(String, String)]);

impl Params<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// `name`, `name[]` and `name[0]`, `name[1]`, ... in order.
    fn list(&self, name: &str) -> Vec<String> {
        let is_item = |k: &str| match k.strip_prefix(name) {
            Some("" | "[]") => true,
            Some(rest) => rest
                .strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .is_some_and(|i| i.bytes().all(|b| b.is_ascii_digit())),
            None => false,
        };
        self.0.iter().filter(|(k, _)| is_item(k)).map(|(_, v)| v.clone()).collect()
    }

    /// `name[key]=value` pairs as a JSON object (`metadata[kasse_payment_id]=pay_1`).
    fn map(&self, name: &str) -> Value {
        let key = |k: &str| k.strip_prefix(name)?.strip_prefix('[')?.strip_suffix(']').map(str::to_owned);
        Value::Object(self.0.iter().filter_map(|(k, v)| Some((key(k)?, Value::from(v.as_str())))).collect())
    }
}

/// `application/x-www-form-urlencoded` (and query strings): `+` is a space, `%XX` a byte.
fn decode_form(raw: &str) -> Vec<(String, String)> {
    let pairs = raw.split('&').filter(|pair| !pair.is_empty());
    pairs.map(|pair| pair.split_once('=').unwrap_or((pair, ""))).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let (mut out, mut i) = (Vec::with_capacity(bytes.len()), 0);
    while i < bytes.len() {
        let hex = s.get(i + 1..i + 3).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        let (byte, width) = match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => (byte, 3),
            (b'+', _) => (b' ', 1),
            (b, _) => (b, 1),
        };
        out.push(byte);
        i += width;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A Stripe object: `id`, `object`, `created`, `livemode: false`, the `nulls` (space-separated) as null, then `fields`.
fn stripe_object(object: &str, id: &str, nulls: &str, fields: Value) -> Value {
    let mut map = Map::new();
    map.insert("id".into(), id.into());
    map.insert("object".into(), object.into());
    map.insert("created".into(), now().into());
    map.insert("livemode".into(), false.into());
    map.extend(nulls.split_whitespace().map(|n| (n.to_owned(), Value::Null)));
    map.extend(json_map(fields));
    Value::Object(map)
}

fn json_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Stripe's error body; with a `code`, the `doc_url` Stripe adds.
fn error(status: StatusCode, kind: &str, code: Option<&str>, param: Option<&str>, message: String) -> Reply {
    let mut e = json!({"type": kind, "message": message});
    if let Some(code) = code {
        e["code"] = code.into();
        e["doc_url"] = format!("https://docs.stripe.com/error-codes/{}", code.replace('_', "-")).into();
    }
    if let Some(param) = param {
        e["param"] = param.into();
    }
    (status, json!({"error": e}))
}

fn missing(param: &str) -> Reply {
    invalid(param, Some("parameter_missing"), &format!("Missing required param: {param}."))
}

/// `off_session` or `on_session`, as `setup_future_usage` and a SetupIntent's `usage` take.
fn usage<'a>(param: &str, value: &'a str) -> Result<&'a str, Reply> {
    match value {
        "off_session" | "on_session" => Ok(value),
        _ => Err(invalid(param, None, &format!("Invalid {param}: must be one of off_session or on_session."))),
    }
}

fn invalid(param: &str, code: Option<&str>, message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, "invalid_request_error", code, Some(param), message.to_owned())
}

/// 404 for an id in the URL (`param` is how Stripe's docs name the path parameter).
fn not_found(object: &str, id: &str) -> Reply {
    let param = if object.ends_with("_intent") { "intent" } else { object };
    let message = format!("No such {object}: '{id}'");
    error(StatusCode::NOT_FOUND, "invalid_request_error", Some("resource_missing"), Some(param), message)
}

fn unexpected_state(object: &str, why: &str, intent: Option<Value>) -> Reply {
    let name = if object == "payment_intent" { "PaymentIntent" } else { "SetupIntent" };
    let (code, message) =
        (format!("{object}_unexpected_state"), format!("You cannot confirm this {name} because it {why}."));
    let mut reply = error(StatusCode::BAD_REQUEST, "invalid_request_error", Some(&code), None, message);
    if let Some(intent) = intent {
        reply.1["error"][object] = intent;
    }
    reply
}

fn unauthorized(authorization: &str) -> Reply {
    let message = match authorization.strip_prefix("Bearer ") {
        Some(key) if !key.is_empty() => {
            let (head, tail) = (key.get(..8).unwrap_or(key), key.get(key.len().saturating_sub(4)..).unwrap_or(""));
            format!("Invalid API Key provided: {head}{}{tail}", "*".repeat(key.len().saturating_sub(12)))
        }
        _ => "You did not provide an API key. You need to provide your API key in the Authorization header, using \
              Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
            .to_owned(),
    };
    error(StatusCode::UNAUTHORIZED, "invalid_request_error", None, None, message)
}

fn str_of(object: &Value, field: &str) -> String {
    object[field].as_str().unwrap_or_default().to_owned()
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)).unwrap_or(0)
}

fn random(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use stripe::{ApiErrorsType, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
    use stripe_core::customer::CreateCustomer;
    use stripe_core::payment_intent::{
        ConfirmPaymentIntent, CreatePaymentIntent, CreatePaymentIntentOffSession, RetrievePaymentIntent,
    };
    use stripe_core::setup_intent::{CreateSetupIntent, CreateSetupIntentUsage, RetrieveSetupIntent};
    use stripe_core::{PaymentIntentStatus, SetupIntentStatus};
    use stripe_types::Currency;

    use super::*;

    fn client(double: &StripeDouble) -> stripe::Client {
        ClientBuilder::new(StripeDouble::SECRET_KEY).url(double.url()).build().expect("client")
    }

    fn key(key: &str) -> RequestStrategy {
        RequestStrategy::Idempotent(IdempotencyKey::new(key).expect("idempotency key"))
    }

    fn create(amount: i64) -> CreatePaymentIntent {
        CreatePaymentIntent::new(amount, Currency::EUR)
    }

    /// The `ApiErrors` and status of a `StripeError::Stripe`; anything else fails the test.
    fn stripe_error<T: std::fmt::Debug>(result: Result<T, StripeError>) -> (stripe::ApiErrors, u16) {
        match result {
            Err(StripeError::Stripe(e, status)) => (*e, status),
            other => panic!("expected an error from Stripe, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn stripe_double_creates_confirms_and_expands_a_payment_intent() {
        let double = StripeDouble::start().await;
        let client = client(&double);
        let customer =
            CreateCustomer::new().email("ada@example.com").name("Ada").send(&client).await.expect("customer");
        assert_eq!(customer.email.as_deref(), Some("ada@example.com"));
        let metadata = HashMap::from([("kasse_payment_id".to_owned(), "pay_1".to_owned())]);
        let intent = create(1999).customer(customer.id.as_str()).metadata(metadata).customize();
        let intent = intent.request_strategy(key("pay_1")).send(&client).await.expect("payment intent");
        assert_eq!(intent.status, PaymentIntentStatus::RequiresPaymentMethod);
        assert!(
            intent.client_secret.as_deref().is_some_and(|s| s.starts_with(&format!("{}_secret_", intent.id.as_str())))
        );
        assert_eq!(intent.metadata.get("kasse_payment_id").map(String::as_str), Some("pay_1"));

        assert_eq!(double.customer_confirms(intent.id.as_str(), "pm_card_visa")["status"], "succeeded");
        let fetched = RetrievePaymentIntent::new(intent.id.clone()).expand(vec!["payment_method".to_owned()]);
        let fetched = fetched.send(&client).await.expect("retrieve");
        assert_eq!((fetched.status, fetched.amount_received), (PaymentIntentStatus::Succeeded, 1999));
        assert_eq!(fetched.currency.to_string(), "eur");
        assert!(fetched.latest_charge.as_ref().is_some_and(|c| c.id().as_str().starts_with("ch_")));
        let method = fetched.payment_method.as_ref().and_then(|m| m.as_object()).expect("an expanded payment method");
        assert_eq!(method.card.as_ref().map(|c| c.last4.as_str()), Some("4242"));
        assert_eq!(method.customer.as_ref().map(|c| c.id().as_str()), Some(customer.id.as_str()));
        let stored = double.intent(intent.id.as_str()).expect("stored intent");
        assert_eq!(stored["payment_method"], method.id.as_str());

        let created = double.requests_to("post", "/v1/payment_intents");
        assert_eq!(created.len(), 1);
        let r = &created[0];
        assert_eq!((r.authorization.as_str(), r.idempotency_key.as_deref()), ("Bearer sk_test_double", Some("pay_1")));
        assert_eq!(r.stripe_version.as_deref(), Some(API_VERSION));
        assert_eq!(r.content_type.as_deref(), Some("application/x-www-form-urlencoded"));
        assert_eq!((r.param("amount"), r.param("currency")), (Some("1999"), Some("eur")));
        assert_eq!(r.param("metadata[kasse_payment_id]"), Some("pay_1"));
        assert_eq!(r.param("customer"), Some(customer.id.as_str()));
        let retrieved = double.requests_to("GET", &format!("/v1/payment_intents/{}", intent.id.as_str()));
        assert_eq!(retrieved[0].param("expand[0]"), Some("payment_method"));
        assert_eq!(double.requests().len(), 3);
    }

    #[tokio::test]
    async fn stripe_double_replays_an_idempotency_key_and_refuses_it_with_other_parameters() {
        let double = StripeDouble::start().await;
        let client = client(&double);
        let first = create(500).customize().request_strategy(key("pay_2")).send(&client).await.expect("first");
        let second = create(500).customize().request_strategy(key("pay_2")).send(&client).await.expect("replay");
        assert_eq!((first.id.as_str(), double.intents_created()), (second.id.as_str(), 1));

        let (e, status) = stripe_error(create(600).customize().request_strategy(key("pay_2")).send(&client).await);
        assert_eq!((e.type_, status), (ApiErrorsType::IdempotencyError, 400));

        // The replay is marked as Stripe marks it, byte for byte the first answer.
        let raw = reqwest::Client::new().post(format!("{}/v1/payment_intents", double.url()));
        let raw = raw.bearer_auth(StripeDouble::SECRET_KEY).header("Idempotency-Key", "pay_2");
        let raw = raw.form(&[("currency", "eur"), ("amount", "500")]).send().await.expect("raw replay");
        assert_eq!(raw.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
        let body: Value = raw.json().await.expect("json");
        assert_eq!((body["id"].as_str(), double.intents_created()), (Some(first.id.as_str()), 1));
        assert_eq!(double.requests_to("POST", "/v1/payment_intents").len(), 4);
    }

    #[tokio::test]
    async fn stripe_double_keeps_work_done_for_a_client_that_gave_up() {
        let double = StripeDouble::start().await;
        double.fail_next(1);
        let (e, status) =
            stripe_error(create(700).customize().request_strategy(key("pay_3")).send(&client(&double)).await);
        assert_eq!((e.type_, status, double.intents_created()), (ApiErrorsType::ApiError, 500, 0));

        double.delay_next(1, Duration::from_secs(3));
        let impatient = ClientBuilder::new(StripeDouble::SECRET_KEY).url(double.url()).timeout(Duration::from_secs(1));
        let impatient = impatient.build().expect("client");
        let gave_up = create(700).customize().request_strategy(key("pay_3")).send(&impatient).await;
        assert!(matches!(gave_up, Err(StripeError::Timeout)), "{gave_up:?}");
        assert_eq!(double.intents_created(), 1, "Stripe did the work");

        let retried =
            create(700).customize().request_strategy(key("pay_3")).send(&client(&double)).await.expect("retry");
        assert!(double.intent(retried.id.as_str()).is_some());
        assert_eq!((double.intents_created(), double.requests().len()), (1, 3));
    }

    #[tokio::test]
    async fn stripe_double_refuses_a_wrong_key_and_declines_a_declining_card() {
        let double = StripeDouble::start().await;
        let stranger = ClientBuilder::new("sk_test_stranger").url(double.url()).build().expect("client");
        let (e, status) = stripe_error(CreateCustomer::new().send(&stranger).await);
        assert_eq!((&e.type_, status), (&ApiErrorsType::InvalidRequestError, 401));
        assert!(e.message.as_deref().is_some_and(|m| m.starts_with("Invalid API Key provided: sk_test_")), "{e:?}");
        assert_eq!(double.requests()[0].authorization, "Bearer sk_test_stranger");

        let client = client(&double);
        let declined = create(1999).confirm(true).payment_method("pm_card_chargeDeclined").send(&client).await;
        let (e, status) = stripe_error(declined);
        assert_eq!((e.type_, status), (ApiErrorsType::CardError, 402));
        assert_eq!(e.code.as_ref().map(|c| c.as_str()), Some("card_declined"));
        assert_eq!(e.decline_code.as_deref(), Some("generic_decline"));
        let intent = e.payment_intent.expect("the intent in the error");
        assert_eq!(intent.status, PaymentIntentStatus::RequiresPaymentMethod);
        let failure =
            intent.last_payment_error.as_ref().and_then(|f| f.payment_method.as_ref()).expect("failed method");
        assert_eq!(failure.card.as_ref().map(|c| c.last4.as_str()), Some("0002"));
        assert_eq!(double.intent(intent.id.as_str()).expect("stored")["status"], "requires_payment_method");

        let missing = RetrievePaymentIntent::new("pi_missing").send(&client).await;
        let (e, status) = stripe_error(missing);
        assert_eq!(
            (e.param.as_deref(), e.message.as_deref(), status),
            (Some("intent"), Some("No such payment_intent: 'pi_missing'"), 404)
        );
        let (e, status) = stripe_error(CreatePaymentIntent::new(0, Currency::EUR).send(&client).await);
        assert_eq!((e.param.as_deref(), status), (Some("amount"), 400));
    }

    #[tokio::test]
    async fn stripe_double_asks_for_authentication_on_and_off_session() {
        let double = StripeDouble::start().await;
        let client = client(&double);
        let on_session =
            create(1000).confirm(true).payment_method("pm_card_authenticationRequired").send(&client).await;
        let on_session = on_session.expect("requires action");
        assert_eq!(on_session.status, PaymentIntentStatus::RequiresAction);
        assert_eq!(on_session.next_action.as_ref().map(|a| a.type_.as_str()), Some("use_stripe_sdk"));
        assert_eq!(double.customer_confirms(on_session.id.as_str(), "")["status"], "succeeded");

        let off_session = create(1000).confirm(true).off_session(CreatePaymentIntentOffSession::Bool(true));
        let (e, status) =
            stripe_error(off_session.payment_method("pm_card_authenticationRequired").send(&client).await);
        assert_eq!((e.code.as_ref().map(|c| c.as_str()), status), (Some("authentication_required"), 402));
        let intent = e.payment_intent.expect("the intent in the error");
        assert_eq!(intent.status, PaymentIntentStatus::RequiresPaymentMethod);
        let method = e.payment_method.expect("the method to authenticate");
        let back = double.customer_confirms(intent.id.as_str(), method.id.as_str());
        assert_eq!((back["status"].as_str(), back["amount_received"].as_i64()), (Some("succeeded"), Some(1000)));

        let sepa = create(1000).confirm(true).payment_method("pm_card_processing").send(&client).await.expect("sepa");
        assert_eq!((sepa.status, double.intents_created()), (PaymentIntentStatus::Processing, 3));
    }

    #[tokio::test]
    async fn stripe_double_saves_a_card_through_a_setup_intent() {
        let double = StripeDouble::start().await;
        let client = client(&double);
        let customer = CreateCustomer::new().send(&client).await.expect("customer");
        let setup = CreateSetupIntent::new().customer(customer.id.as_str()).usage(CreateSetupIntentUsage::OffSession);
        let setup = setup.send(&client).await.expect("setup intent");
        assert_eq!((setup.status, setup.usage.as_str()), (SetupIntentStatus::RequiresPaymentMethod, "off_session"));

        assert_eq!(double.customer_confirms(setup.id.as_str(), "pm_card_visa")["status"], "succeeded");
        let fetched = RetrieveSetupIntent::new(setup.id.clone()).expand(vec!["payment_method".to_owned()]);
        let fetched = fetched.send(&client).await.expect("retrieve");
        assert_eq!(fetched.status, SetupIntentStatus::Succeeded);
        let method = fetched.payment_method.as_ref().and_then(|m| m.as_object()).expect("an expanded payment method");
        assert_eq!(method.card.as_ref().map(|c| c.last4.as_str()), Some("4242"));
        assert_eq!(method.customer.as_ref().map(|c| c.id().as_str()), Some(customer.id.as_str()));
        assert_eq!(double.requests_to("POST", "/v1/setup_intents")[0].param("usage"), Some("off_session"));

        let event = double.event("setup_intent.succeeded", double.intent(setup.id.as_str()).expect("stored"));
        assert_eq!(
            (event["type"].as_str(), event["data"]["object"]["id"].as_str()),
            (Some("setup_intent.succeeded"), Some(setup.id.as_str()))
        );
        let body = event.to_string();
        let header = signature(body.as_bytes(), "whsec_test", 1_700_000_000);
        assert_eq!(
            kasse::payments::stripe::signature::verify(&header, body.as_bytes(), &["whsec_test"], 1_700_000_000),
            Ok(())
        );
    }

    #[tokio::test]
    async fn stripe_double_confirms_server_side_replays_a_decline_and_speaks_the_protocol() {
        let double = StripeDouble::start().await;
        let client = client(&double);
        let intent = create(300).send(&client).await.expect("intent");
        let confirmed = ConfirmPaymentIntent::new(intent.id.clone()).payment_method("pm_card_visa");
        let confirmed = confirmed.expand(vec!["payment_method".to_owned()]).send(&client).await.expect("confirm");
        assert_eq!((confirmed.status, confirmed.amount_received), (PaymentIntentStatus::Succeeded, 300));
        let again = ConfirmPaymentIntent::new(intent.id.clone()).send(&client).await;
        assert_eq!(
            stripe_error(again).0.code.map(|c| c.as_str().to_owned()).as_deref(),
            Some("payment_intent_unexpected_state")
        );

        let declined = || create(400).confirm(true).payment_method("pm_card_chargeDeclined").customize();
        let first = stripe_error(declined().request_strategy(key("pay_4")).send(&client).await);
        let replayed = stripe_error(declined().request_strategy(key("pay_4")).send(&client).await);
        assert_eq!((first.1, replayed.1, double.intents_created()), (402, 402, 2));
        let ids = |e: &stripe::ApiErrors| e.payment_intent.as_ref().map(|pi| pi.id.as_str().to_owned());
        assert_eq!(ids(&first.0), ids(&replayed.0));

        let raw = reqwest::Client::new();
        let url = |path: &str| format!("{}{path}", double.url());
        let method = confirmed.payment_method.as_ref().map(|m| m.id().as_str().to_owned()).expect("method");
        let fetched = raw.get(url(&format!("/v1/payment_methods/{method}"))).bearer_auth(StripeDouble::SECRET_KEY);
        let fetched: Value = fetched.send().await.expect("get").json().await.expect("json");
        assert_eq!(
            (fetched["object"].as_str(), fetched["card"]["last4"].as_str()),
            (Some("payment_method"), Some("4242"))
        );
        let unknown = raw.get(url("/v1/charges")).bearer_auth(StripeDouble::SECRET_KEY).send().await.expect("get");
        assert_eq!(unknown.status(), 404);
        let json_body =
            raw.post(url("/v1/customers")).bearer_auth(StripeDouble::SECRET_KEY).json(&json!({"email": "x"}));
        let json_body = json_body.send().await.expect("post");
        assert_eq!(json_body.status(), 400);
        let body: Value = json_body.json().await.expect("json");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        let list = raw.get(url(&format!("/v1/payment_intents/{}?expand[]=payment_method", intent.id.as_str())));
        let list: Value =
            list.bearer_auth(StripeDouble::SECRET_KEY).send().await.expect("get").json().await.expect("json");
        assert_eq!(list["payment_method"]["id"].as_str(), Some(method.as_str()));
    }

    #[tokio::test]
    async fn stripe_double_lets_stripe_js_confirm_with_a_publishable_key_and_the_client_secret() {
        let double = StripeDouble::start().await;
        let client = client(&double);
        let intent = create(1200).send(&client).await.expect("intent");
        let (id, secret) = (intent.id.as_str(), intent.client_secret.clone().expect("client secret"));
        let raw = reqwest::Client::new();
        let url = |path: &str| format!("{}{path}", double.url());
        let confirm_url = url(&format!("/v1/payment_intents/{id}/confirm"));
        // As Stripe.js sends it: a plain form POST (no preflight), the publishable key in the form.
        let confirm = |client_secret: String, method: &'static str| {
            let form = [
                ("key", "pk_test_double".to_owned()),
                ("client_secret", client_secret),
                ("payment_method", method.to_owned()),
                ("return_url", "http://127.0.0.1:1/return".to_owned()),
            ];
            raw.post(&confirm_url).form(&form).send()
        };
        let cors = |r: &reqwest::Response| {
            r.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()).map(str::to_owned)
        };

        let wrong = confirm(format!("{id}_secret_guessed"), "pm_card_visa").await.expect("post");
        assert_eq!((wrong.status().as_u16(), cors(&wrong).as_deref()), (400, Some("*")));
        let body: Value = wrong.json().await.expect("json");
        assert_eq!(body["error"]["param"], "client_secret");
        assert_eq!(double.intent(id).expect("stored")["status"], "requires_payment_method", "nothing changed");

        let declined = confirm(secret.clone(), "pm_card_chargeDeclined").await.expect("post");
        assert_eq!((declined.status().as_u16(), cors(&declined).as_deref()), (402, Some("*")));
        let body: Value = declined.json().await.expect("json");
        assert_eq!(
            (body["error"]["type"].as_str(), body["error"]["code"].as_str(), body["error"]["message"].as_str()),
            (Some("card_error"), Some("card_declined"), Some("Your card was declined."))
        );
        // In the browser the customer passes 3-D Secure.
        let paid = confirm(secret.clone(), "pm_card_authenticationRequired").await.expect("post");
        assert_eq!(paid.status(), 200);
        let body: Value = paid.json().await.expect("json");
        assert_eq!((body["status"].as_str(), body["amount_received"].as_i64()), (Some("succeeded"), Some(1200)));
        let confirms = double.requests_to("POST", &format!("/v1/payment_intents/{id}/confirm"));
        assert_eq!(confirms.len(), 3);
        let last = &confirms[2];
        assert_eq!((last.authorization.as_str(), last.param("key")), ("", Some("pk_test_double")));
        assert_eq!(last.param("payment_method"), Some("pm_card_authenticationRequired"));
        assert_eq!(last.param("return_url"), Some("http://127.0.0.1:1/return"));

        // Everything else still needs the secret key, whichever way a publishable key is presented.
        let setup = CreateSetupIntent::new().send(&client).await.expect("setup intent");
        let setup_secret = setup.client_secret.clone().expect("client secret");
        let refused = [
            raw.get(url(&format!("/v1/payment_intents/{id}"))).query(&[("key", "pk_test_double")]),
            raw.post(url("/v1/payment_intents")).form(&[
                ("key", "pk_test_double"),
                ("amount", "100"),
                ("currency", "eur"),
            ]),
            raw.post(url("/v1/customers")).bearer_auth("pk_test_double"),
        ];
        for request in refused {
            let r = request.send().await.expect("send");
            assert_eq!(r.status(), 401);
            let body: Value = r.json().await.expect("json");
            let message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
            assert!(message.starts_with("This API call cannot be made with a publishable API key."), "{message}");
        }
        let live =
            [("key", "pk_live_double"), ("client_secret", setup_secret.as_str()), ("payment_method", "pm_card_visa")];
        let live = raw.post(url(&format!("/v1/setup_intents/{}/confirm", setup.id.as_str()))).form(&live);
        assert_eq!(live.send().await.expect("post").status(), 401, "the double knows only test keys");
        let saved =
            [("key", "pk_test_double"), ("client_secret", setup_secret.as_str()), ("payment_method", "pm_card_visa")];
        let saved = raw.post(url(&format!("/v1/setup_intents/{}/confirm", setup.id.as_str()))).form(&saved);
        let saved: Value = saved.send().await.expect("post").json().await.expect("json");
        assert_eq!(saved["status"], "succeeded");

        // A preflight is answered (a page sending the Bearer key would ask), Stripe.js and its frame are served.
        let preflight = raw.request(reqwest::Method::OPTIONS, &confirm_url);
        let preflight =
            preflight.header("origin", "http://127.0.0.1:2").header("access-control-request-method", "POST");
        let preflight = preflight.header("access-control-request-headers", "authorization").send().await.expect("send");
        assert_eq!((preflight.status().as_u16(), cors(&preflight).as_deref()), (204, Some("*")));
        let allowed = preflight.headers().get("access-control-allow-headers").and_then(|v| v.to_str().ok());
        assert_eq!(allowed, Some("authorization"));
        for (path, kind, marker) in [
            ("/v3/", "application/javascript", "window.Stripe = Stripe"),
            ("/v3", "application/javascript", "confirmPayment"),
            ("/v3/elements-frame", "text/html", r#"<label for="cardnumber">Card number</label>"#),
        ] {
            let r = raw.get(url(path)).send().await.expect("get");
            let content_type = r.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
            assert!(content_type.starts_with(kind), "{path}: {content_type}");
            assert!(r.text().await.expect("text").contains(marker), "{path}");
        }
        assert_eq!(double.requests_to("GET", "/v3").len(), 0, "Stripe.js is not an API request");
    }
}
