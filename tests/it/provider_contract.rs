//! The payment provider contract: the same six scenarios — success, decline, requires action, a
//! timeout then a retry under the same key, the provider's report replayed, and reports out of
//! order — run against the sandbox provider and against the Stripe adapter (on the local Stripe
//! double), each on SQLite and PostgreSQL. A scenario speaks of cards and reports; the `Harness`
//! turns those into what each provider really does:
//!
//! | contract                  | sandbox                                 | Stripe                                     |
//! |---------------------------|-----------------------------------------|--------------------------------------------|
//! | pay with a card           | card fields on the page                 | Payment Element, then the return URL       |
//! | bank authentication       | Kasse's challenge page                  | 3-D Secure in the element                  |
//! | no answer                 | test card 4000 0000 0000 0119           | the API answers after the client gave up   |
//! | the provider reports      | the challenge answer (its one channel)  | a signed webhook                           |
//! | a stale report            | a denial from a second tab              | an old `payment_intent.payment_failed`     |

use std::time::Duration;

use serde_json::{Value, json};

use crate::checkout::{
    CHALLENGE, DECLINE, SUCCESS, count_where, csrf_of, events, get_page, html, location, page_resp, pay_fields,
    post_form, scalar,
};
use crate::stripe::{WEBHOOK_SECRET, checkout, now, press_pay, scalar_text, send_webhook};
use crate::stripe_double::StripeDouble;
use crate::support::{Resp, Store, TestApp};

/// Sandbox test card: the provider never answers.
const NO_ANSWER: &str = "4000 0000 0000 0119";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    Sandbox,
    Stripe,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Card {
    Succeeds,
    Declines,
    /// The customer's bank asks them to confirm; they do.
    Authenticates,
    /// The provider takes the request but its answer never arrives.
    NoAnswer,
}

/// Whose word about a payment reaches Kasse first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    CustomerFirst,
    ProviderFirst,
}

/// What paying came to: the last answer the customer's browser got, and the payment it was about.
struct Paid {
    resp: Resp,
    payment_id: String,
    /// The page where the customer completed the payment (challenge or element), when there was one.
    step: Option<String>,
    /// The form token of that page as the browser holds it (a resubmission, a second tab).
    csrf: Option<String>,
}

/// One provider behind Kasse, and what the customer and the provider do.
struct Harness {
    app: TestApp,
    provider: Provider,
    stripe: Option<StripeDouble>,
}

macro_rules! contract {
    ($($name:ident => $scenario:ident;)*) => {
        $(
            mod $name {
                use super::Provider::{Sandbox, Stripe};
                use crate::support::Store::{Postgres, Sqlite};
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sandbox_sqlite() {
                    super::$scenario(super::Harness::start(Sandbox, Sqlite).await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sandbox_postgres() {
                    super::$scenario(super::Harness::start(Sandbox, Postgres).await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn stripe_sqlite() {
                    super::$scenario(super::Harness::start(Stripe, Sqlite).await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn stripe_postgres() {
                    super::$scenario(super::Harness::start(Stripe, Postgres).await).await;
                }
            }
        )*
    };
}

contract! {
    a_paid_checkout_completes_once => success;
    a_decline_is_reported_once_and_the_customer_pays_with_another_card => decline_then_success;
    an_automatic_charge_the_bank_wants_confirmed_is_completed_on_the_invoice_page => requires_action;
    a_payment_the_provider_never_answered_is_retried_under_the_same_key => timeout_then_retry;
    a_replayed_report_changes_nothing => replayed_report;
    reports_out_of_order_fulfil_once_and_a_stale_failure_changes_nothing => out_of_order;
}

impl Harness {
    async fn start(provider: Provider, store: Store) -> Harness {
        match provider {
            Provider::Sandbox => {
                Harness { app: TestApp::spawn_configured(store, |_| {}).await, provider, stripe: None }
            }
            Provider::Stripe => {
                let double = StripeDouble::start().await;
                let app = crate::stripe::spawn(store, &double).await;
                Harness { app, provider, stripe: Some(double) }
            }
        }
    }

    fn double(&self) -> &StripeDouble {
        self.stripe.as_ref().expect("a Stripe harness")
    }

    fn path(&self, url: &str) -> String {
        url.strip_prefix(&self.app.base).unwrap_or(url).to_string()
    }

    async fn provider_ref(&self, payment_id: &str) -> String {
        scalar_text(&self.app, &format!("SELECT provider_ref FROM payments WHERE id = '{payment_id}'")).await
    }

    /// The customer fills in the checkout at `path`, pays with `card` through whatever steps the
    /// provider has, and comes back.
    async fn pay(&self, path: &str, card: Card, order: Order) -> Paid {
        match self.provider {
            Provider::Sandbox => self.pay_sandbox(path, card).await,
            Provider::Stripe => self.pay_stripe(path, card, order).await,
        }
    }

    async fn pay_sandbox(&self, path: &str, card: Card) -> Paid {
        let app = &self.app;
        let number = match card {
            Card::Succeeds => SUCCESS,
            Card::Declines => DECLINE,
            Card::Authenticates => CHALLENGE,
            Card::NoAnswer => NO_ANSWER,
        };
        let (_, page) = get_page(app, path).await;
        let resp = post_form(app, path, &csrf_of(&page), &pay_fields(number)).await;
        let payment_id = self.latest_payment().await;
        if card != Card::Authenticates {
            return Paid { resp, payment_id, step: None, csrf: None };
        }
        assert_eq!(resp.status, 303, "{}", html(&resp));
        let step = self.path(&location(&resp));
        assert!(step.ends_with(&format!("/challenge/{payment_id}")), "{step}");
        let (status, challenge) = get_page(&self.app, &step).await;
        assert_eq!(status, 200, "{challenge}");
        let csrf = csrf_of(&challenge);
        let resp = post_form(&self.app, &step, &csrf, &[("answer", "approve")]).await;
        Paid { resp, payment_id, step: Some(step), csrf: Some(csrf) }
    }

    async fn pay_stripe(&self, path: &str, card: Card, order: Order) -> Paid {
        let (app, double) = (&self.app, self.double());
        if card == Card::NoAnswer {
            // Stripe makes the intent, but answers after the adapter's 1 s timeout.
            double.delay_next_to("/v1/payment_intents", 1, Duration::from_secs(3));
            let resp = press_pay(app, path).await;
            return Paid { resp, payment_id: self.latest_payment().await, step: None, csrf: None };
        }
        let resp = press_pay(app, path).await;
        assert_eq!(resp.status, 303, "{}", html(&resp));
        let step = self.path(&location(&resp));
        let payment_id = step.rsplit('/').next().unwrap_or_default().to_string();
        assert!(step.ends_with(&format!("/challenge/{payment_id}")), "{step}");
        let (status, element) = get_page(app, &step).await;
        assert_eq!(status, 200);
        assert!(element.contains("id=\"payment-element\""), "{element}");
        let intent = self.provider_ref(&payment_id).await;
        let method = match card {
            Card::Succeeds => "pm_card_visa",
            Card::Declines => "pm_card_chargeDeclined",
            _ => "pm_card_authenticationRequired",
        };
        double.customer_confirms(&intent, method);
        if order == Order::ProviderFirst || card == Card::Declines {
            self.report(&payment_id, card).await;
        }
        let resp = self.get(&format!("{step}/return")).await;
        if order == Order::CustomerFirst && card != Card::Declines {
            self.report(&payment_id, card).await;
        }
        Paid { resp, payment_id, step: Some(step), csrf: None }
    }

    /// The provider tells Kasse what became of payment `payment_id` (paid with `card`). The
    /// sandbox has no channel besides the customer's own answer, which `pay` already gave.
    async fn report(&self, payment_id: &str, card: Card) {
        if self.provider == Provider::Stripe {
            let double = self.double();
            let intent = double.intent(&self.provider_ref(payment_id).await).expect("the intent");
            let kind =
                if card == Card::Declines { "payment_intent.payment_failed" } else { "payment_intent.succeeded" };
            let event = double.event(kind, intent);
            assert_eq!(send_webhook(&self.app, &event, WEBHOOK_SECRET, now()).await, 200);
        }
    }

    /// The provider's report of a paid payment arrives again: Stripe redelivers its webhook (the
    /// same event id) and the customer reloads the return URL; on the sandbox the customer's
    /// browser resubmits the challenge answer.
    async fn report_again(&self, paid: &Paid) {
        let step = paid.step.as_deref().expect("a payment with a step");
        match self.provider {
            Provider::Sandbox => {
                let csrf = paid.csrf.as_deref().unwrap_or_default();
                let again = post_form(&self.app, step, csrf, &[("answer", "approve")]).await;
                assert_eq!(again.status, 303, "{}", html(&again));
            }
            Provider::Stripe => {
                let double = self.double();
                let intent = double.intent(&self.provider_ref(&paid.payment_id).await).expect("the intent");
                let event = double.event("payment_intent.succeeded", intent);
                for _ in 0..2 {
                    assert_eq!(send_webhook(&self.app, &event, WEBHOOK_SECRET, now()).await, 200);
                }
                assert_eq!(self.get(&format!("{step}/return")).await.status, 303);
            }
        }
    }

    /// A failure report older than the success arrives after it: Stripe delivers an earlier
    /// attempt's `payment_intent.payment_failed` late (events are not ordered); on the sandbox a
    /// second tab still showing the challenge denies it.
    async fn report_stale_failure(&self, paid: &Paid) {
        let step = paid.step.as_deref().expect("a payment with a step");
        match self.provider {
            Provider::Sandbox => {
                let csrf = paid.csrf.as_deref().unwrap_or_default();
                let late = post_form(&self.app, step, csrf, &[("answer", "deny")]).await;
                assert_eq!(late.status, 303, "{}", html(&late));
            }
            Provider::Stripe => {
                let double = self.double();
                let mut then = double.intent(&self.provider_ref(&paid.payment_id).await).expect("the intent");
                then["status"] = json!("requires_payment_method");
                then["payment_method"] = Value::Null;
                then["last_payment_error"] =
                    json!({"type": "card_error", "code": "card_declined", "message": "Your card was declined."});
                let event = double.event("payment_intent.payment_failed", then);
                assert_eq!(send_webhook(&self.app, &event, WEBHOOK_SECRET, now()).await, 200);
            }
        }
    }

    /// The customer opens a challenge page and answers it.
    async fn answer_challenge(&self, step: &str, answer: &str) -> Resp {
        let (status, page) = get_page(&self.app, step).await;
        assert_eq!(status, 200, "{page}");
        post_form(&self.app, step, &csrf_of(&page), &[("answer", answer)]).await
    }

    async fn get(&self, path: &str) -> Resp {
        page_resp(self.app.client.get(format!("{}{path}", self.app.base))).await
    }

    async fn latest_payment(&self) -> String {
        scalar_text(&self.app, "SELECT MAX(id) FROM payments").await
    }

    /// A payment method of `customer` whose bank wants the customer to confirm every charge,
    /// saved at a real checkout that asked to keep it: the 3-D Secure card, confirmed there.
    async fn save_method_needing_the_bank(&self, customer: &str) {
        let app = &self.app;
        let extra = json!({"customer_id": customer, "options": {"save_card_on_checkout": true}});
        let (_, path) = checkout(app, extra).await;
        let (_, page) = get_page(app, &path).await;
        assert!(page.contains("Your card will be saved"), "the page tells the customer: {page}");
        let paid = self.pay(&path, Card::Authenticates, Order::CustomerFirst).await;
        assert_thanked(self, &path, &paid.resp).await;
        let saved = format!("customer_id = '{customer}' AND provider = '{}' AND last4 = '3184'", self.kind());
        assert_eq!(count_where(app, "payment_methods", &saved).await, 1, "the card is kept for later charges");
    }

    fn kind(&self) -> &'static str {
        match self.provider {
            Provider::Sandbox => "sandbox",
            Provider::Stripe => "stripe",
        }
    }
}

/// The checkout at `path` (id `id`) is COMPLETED with one paid invoice, one succeeded payment
/// (the provider's reference on it) and one `checkout.completed`.
async fn assert_completed_once(h: &Harness, id: &str, payment_id: &str) {
    let app = &h.app;
    let completed = format!("SELECT COUNT(*) FROM checkout_sessions WHERE id = '{id}' AND status = 'COMPLETED'");
    assert_eq!(scalar(&app.db, &completed).await, 1, "the checkout is completed");
    assert_eq!(count_where(app, "invoices", "status = 'PAID' AND total = 49900").await, 1);
    assert_eq!(count_where(app, "invoices", "1 = 1").await, 1);
    let succeeded = format!("status = 'SUCCEEDED' AND id = '{payment_id}' AND amount = 49900");
    assert_eq!(count_where(app, "payments", &succeeded).await, 1);
    assert_eq!(count_where(app, "payments", "status = 'SUCCEEDED'").await, 1);
    assert_eq!(events(app, "checkout.completed").await, 1);
    assert_eq!(events(app, "invoice.paid").await, 1);
    let reference = h.provider_ref(payment_id).await;
    match h.provider {
        Provider::Sandbox => assert_eq!(reference, format!("sbx_{payment_id}")),
        Provider::Stripe => {
            let intent = h.double().intent(&reference).expect("Stripe holds the intent");
            assert_eq!((intent["status"].as_str(), intent["amount"].as_i64()), (Some("succeeded"), Some(49900)));
            assert_eq!(intent["metadata"]["kasse_payment_id"], payment_id);
            assert_eq!(intent["metadata"]["kasse_checkout_id"], id);
        }
    }
}

/// The customer's browser ended on the checkout's confirmation: a redirect to the page, which
/// now thanks them.
async fn assert_thanked(h: &Harness, path: &str, resp: &Resp) {
    assert_eq!(resp.status, 303, "{}", html(resp));
    assert_eq!(h.path(&location(resp)), path);
    let (status, page) = get_page(&h.app, path).await;
    assert_eq!(status, 200);
    assert!(page.contains("Thank you"), "{page}");
}

async fn success(h: Harness) {
    let (id, path) = checkout(&h.app, json!({})).await;
    let paid = h.pay(&path, Card::Succeeds, Order::CustomerFirst).await;
    assert_thanked(&h, &path, &paid.resp).await;
    assert_completed_once(&h, &id, &paid.payment_id).await;
    assert_eq!(events(&h.app, "payment.failed").await, 0);
    if h.provider == Provider::Stripe {
        assert_eq!(h.double().intents_created(), 1);
    }
    h.app.finish().await;
}

async fn decline_then_success(h: Harness) {
    let (id, path) = checkout(&h.app, json!({})).await;
    let declined = h.pay(&path, Card::Declines, Order::CustomerFirst).await;
    // Told on the page why, and still able to pay: nothing completed, the merchant told once.
    assert!(matches!(declined.resp.status, 200 | 402), "{}", declined.resp.status);
    assert!(html(&declined.resp).contains("Your card was declined."), "{}", html(&declined.resp));
    let open = format!(
        "SELECT COUNT(*) FROM checkout_sessions WHERE id = '{id}' AND status IN ('CREATED', 'AWAITING_PAYMENT')"
    );
    assert_eq!(scalar(&h.app.db, &open).await, 1);
    assert_eq!(events(&h.app, "payment.failed").await, 1);
    assert_eq!(count_where(&h.app, "invoices", "1 = 1").await, 0);

    let paid = h.pay(&path, Card::Succeeds, Order::CustomerFirst).await;
    assert_thanked(&h, &path, &paid.resp).await;
    assert_completed_once(&h, &id, &paid.payment_id).await;
    assert_eq!(events(&h.app, "payment.failed").await, 1);
    h.app.finish().await;
}

async fn requires_action(h: Harness) {
    let app = &h.app;
    let customer = app.post_company("/customers", &json!({"name": "Ana Lima", "email": "ana@example.com"})).await;
    let customer = customer.ok()["id"].as_str().unwrap().to_string();
    h.save_method_needing_the_bank(&customer).await;
    let training =
        app.pricing("USD", json!([{"name": "Training day", "pricing_model": "PER_UNIT", "unit_amount": 25000}])).await;
    let charge = json!({"customer_id": customer, "type": "IMMEDIATE", "auto_charges": true,
        "invoice_payment_instructions": "IBAN DE89 3704 0044 0532 0130 00",
        "onetime_items": [{"product_pricing_id": training["id"], "aggregate": 2}]});
    let created = app.post_company("/one_times", &charge).await;
    let invoice_id = created.ok()[0]["invoice_id"].as_str().unwrap().to_string();

    // Charged off-session: the bank wants the customer, so the invoice stays open and the
    // payment waits for them; nothing is paid, and no failure is reported.
    let invoice = app.get_company(&format!("/invoices/{invoice_id}")).await;
    let invoice = invoice.ok().clone();
    assert_eq!((invoice["status"].as_str(), invoice["amount_due"].as_i64()), (Some("OPEN"), Some(50000)));
    let waiting = format!("invoice_id = '{invoice_id}' AND status = 'REQUIRES_ACTION' AND amount = 50000");
    assert_eq!(count_where(app, "payments", &waiting).await, 1);
    assert_eq!(events(app, "payment.failed").await, 0);
    let payment_id = scalar_text(app, &format!("SELECT id FROM payments WHERE invoice_id = '{invoice_id}'")).await;
    if h.provider == Provider::Stripe {
        // Stripe answered 402 authentication_required to the off-session confirm of the saved method.
        let confirms = h.double().requests_to("POST", "/v1/payment_intents");
        let off_session = confirms.iter().find(|r| r.idempotency_key.as_deref() == Some(payment_id.as_str()));
        let off_session = off_session.expect("the automatic charge's intent");
        assert_eq!((off_session.param("off_session"), off_session.param("confirm")), (Some("true"), Some("true")));
        assert_eq!(off_session.param("amount"), Some("50000"));
        assert_eq!(off_session.param("metadata[kasse_invoice_id]"), Some(invoice_id.as_str()));
    }

    // The hosted invoice page sends the customer to confirm that very payment.
    let page_path = h.path(invoice["url"].as_str().unwrap());
    let (status, page) = get_page(app, &page_path).await;
    assert_eq!(status, 200);
    assert!(page.contains("waiting for you to confirm it with your bank"), "{page}");
    let step = format!("{page_path}/challenge/{payment_id}");
    assert!(page.contains(&format!("href=\"{step}\"")), "{page}");
    let done = match h.provider {
        Provider::Sandbox => h.answer_challenge(&step, "approve").await,
        Provider::Stripe => {
            // Pressing Pay on the page leads to the same step, not a second intent.
            let before = h.double().intents_created();
            let pressed = post_form(app, &format!("{page_path}/pay"), &csrf_of(&page), &[]).await;
            assert_eq!((pressed.status, h.path(&location(&pressed))), (303, step.clone()), "{}", html(&pressed));
            assert_eq!(h.double().intents_created(), before);
            let (status, element) = get_page(app, &step).await;
            assert_eq!(status, 200);
            let intent = h.provider_ref(&payment_id).await;
            let secret = h.double().intent(&intent).unwrap()["client_secret"].as_str().unwrap().to_string();
            assert!(element.contains(&secret), "{element}");
            // Without JavaScript the element cannot work: the invoice's bank transfer is offered.
            let manual = &element[element.find("<noscript>").expect("a noscript block")..];
            assert!(manual.contains("id=\"element-manual\"") && manual.contains("IBAN DE89 3704"), "{element}");
            h.double().customer_confirms(&intent, "pm_card_authenticationRequired");
            h.get(&format!("{step}/return")).await
        }
    };
    assert_eq!((done.status, h.path(&location(&done))), (303, page_path.clone()), "{}", html(&done));
    let (_, receipt) = get_page(app, &page_path).await;
    assert!(receipt.contains("Payment received") && !receipt.contains("waiting for you"), "{receipt}");
    let paid = app.get_company(&format!("/invoices/{invoice_id}")).await;
    assert_eq!((paid.ok()["status"].as_str(), paid.body["amount_due"].as_i64()), (Some("PAID"), Some(0)));
    let succeeded = format!("invoice_id = '{invoice_id}' AND status = 'SUCCEEDED' AND id = '{payment_id}'");
    assert_eq!(count_where(app, "payments", &succeeded).await, 1);
    assert_eq!(count_where(app, "payments", &format!("invoice_id = '{invoice_id}'")).await, 1);
    let paid_events = format!("event_type = 'invoice.paid' AND payload LIKE '%{invoice_id}%'");
    assert_eq!(count_where(app, "outbox_events", &paid_events).await, 1);
    h.app.finish().await;
}

async fn timeout_then_retry(h: Harness) {
    let (id, path) = checkout(&h.app, json!({})).await;
    let lost = h.pay(&path, Card::NoAnswer, Order::CustomerFirst).await;
    // The customer is told nothing was charged; the attempt is kept, unanswered.
    assert_eq!(lost.resp.status, 503, "{}", html(&lost.resp));
    assert!(html(&lost.resp).contains("name=\"csrf\""), "the page, to try again: {}", html(&lost.resp));
    assert_eq!(count_where(&h.app, "payments", "status = 'PROCESSING'").await, 1);
    if h.provider == Provider::Stripe {
        assert_eq!(h.double().intents_created(), 1, "Stripe made the intent; its answer was lost");
    }

    let paid = h.pay(&path, Card::Succeeds, Order::CustomerFirst).await;
    assert_eq!(paid.payment_id, lost.payment_id, "the retry is the same payment, so the same key");
    assert_thanked(&h, &path, &paid.resp).await;
    assert_completed_once(&h, &id, &paid.payment_id).await;
    assert_eq!(count_where(&h.app, "payments", "1 = 1").await, 1);
    if h.provider == Provider::Stripe {
        let sent = h.double().requests_to("POST", "/v1/payment_intents");
        let keys: Vec<_> = sent.iter().map(|r| r.idempotency_key.as_deref()).collect();
        assert_eq!(keys, vec![Some(lost.payment_id.as_str()); 2]);
        assert_eq!(h.double().intents_created(), 1, "no second intent");
    }
    h.app.finish().await;
}

async fn replayed_report(h: Harness) {
    let (id, path) = checkout(&h.app, json!({})).await;
    let paid = h.pay(&path, Card::Authenticates, Order::CustomerFirst).await;
    assert_thanked(&h, &path, &paid.resp).await;
    assert_completed_once(&h, &id, &paid.payment_id).await;
    h.report_again(&paid).await;
    h.report_again(&paid).await;
    assert_completed_once(&h, &id, &paid.payment_id).await;
    assert_eq!(events(&h.app, "payment.failed").await, 0);
    h.app.finish().await;
}

async fn out_of_order(h: Harness) {
    let (id, path) = checkout(&h.app, json!({})).await;
    // The provider's word before the customer's return (Stripe: the webhook first).
    let paid = h.pay(&path, Card::Authenticates, Order::ProviderFirst).await;
    assert_thanked(&h, &path, &paid.resp).await;
    assert_completed_once(&h, &id, &paid.payment_id).await;
    // Then a failure from before the success: the payment stays paid, and the merchant is not
    // told of a failure of what has been paid.
    h.report_stale_failure(&paid).await;
    assert_completed_once(&h, &id, &paid.payment_id).await;
    assert_eq!(events(&h.app, "payment.failed").await, 0);
    assert_eq!(count_where(&h.app, "payments", "status = 'FAILED'").await, 0);
    h.app.finish().await;
}
