//! Promo-code attempts are limited per checkout and per client address, with the real wait
//! said, counted in the database (shared by every instance), and the client address read
//! through trusted proxies only.

use chrono::Duration;

use crate::checkout::{catalog, create, csrf_of, get_page, html, order, page_resp};
use crate::support::{Resp, TestApp};

/// Try promo code `code` on the checkout at `path` through server `base`, as the client behind
/// `forwarded_for` (an `X-Forwarded-For` a proxy would add) when given; the page it ends on.
async fn try_code(app: &TestApp, base: &str, path: &str, code: &str, forwarded_for: Option<&str>) -> Resp {
    let (_, page) = get_page(app, path).await;
    let form = [("csrf", csrf_of(&page)), ("promo_code", code.to_string()), ("action", "apply_promo".to_string())];
    let mut request = app.client.post(format!("{base}{path}")).form(&form);
    if let Some(client) = forwarded_for {
        request = request.header("x-forwarded-for", client);
    }
    let r = page_resp(request).await;
    // Applied or refused, the page comes after a redirect (422 when it shows a refusal).
    if r.status == 303 { page_resp(app.client.get(format!("{base}{path}"))).await } else { r }
}

/// The message beside the promo field, if any.
fn promo_error(r: &Resp) -> String {
    let page = html(r);
    match page.find("id=\"promo_code-error\"") {
        Some(at) => page[at..at + 300.min(page.len() - at)].to_string(),
        None => String::new(),
    }
}

on_both_stores! {
    async fn a_checkout_gets_ten_promo_tries_over_every_instance_and_hears_the_real_wait(app) {
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let other = app.another_process().await;
        for i in 0..10 {
            let base = if i % 2 == 0 { &app.base } else { &other.base };
            let r = try_code(app, base, &path, "WRONG", None).await;
            assert_eq!(r.status, 422, "try {i}: {}", promo_error(&r));
        }
        // The eleventh, on either instance: refused, with the wait the window really has left.
        for base in [&other.base, &app.base] {
            let r = try_code(app, base, &path, "SAVE10", None).await;
            assert_eq!(r.status, 429);
            assert!(promo_error(&r).contains("Try again in 10 minutes."), "{}", promo_error(&r));
        }
        app.clock.advance(Duration::minutes(4));
        let r = try_code(app, &app.base, &path, "SAVE10", None).await;
        assert!(promo_error(&r).contains("Try again in 6 minutes."), "{}", promo_error(&r));
        // A new window: the right code applies.
        app.clock.advance(Duration::minutes(6));
        let r = try_code(app, &other.base, &path, "SAVE10", None).await;
        assert_eq!(r.status, 200, "{}", promo_error(&r));
        let (_, page) = get_page(app, &path).await;
        assert!(page.contains("SAVE10") && page.contains("$516.60"), "{page}");
        other.stop().await;
    }

    async fn without_trusted_proxies_a_forwarded_header_does_not_buy_more_tries(app) {
        let c = catalog(app).await;
        // 50 tries from this address over five checkouts, each claiming to be someone else.
        for n in 0..5 {
            let (_, path) = create(app, &order(&c, |_| {})).await;
            for i in 0..10 {
                let r = try_code(app, &app.base, &path, "WRONG", Some(&format!("198.51.100.{}", n * 10 + i))).await;
                assert_eq!(r.status, 422);
            }
        }
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let r = try_code(app, &app.base, &path, "SAVE10", Some("203.0.113.1")).await;
        assert_eq!(r.status, 429, "the address is the socket's, whatever the header says");
        assert!(promo_error(&r).contains("Try again in 10 minutes."), "{}", promo_error(&r));
    }
}

on_both_stores! {
    config = |c| c.trusted_proxies = kasse::domain::client_addr::parse_trusted("127.0.0.1/32").unwrap();

    async fn behind_a_trusted_proxy_each_client_has_its_own_address_limit(app) {
        let c = catalog(app).await;
        for _ in 0..5 {
            let (_, path) = create(app, &order(&c, |_| {})).await;
            for _ in 0..10 {
                // The client wrote its own header line; the proxy appended the real address.
                let r = try_code(app, &app.base, &path, "WRONG", Some("6.6.6.6, 198.51.100.7")).await;
                assert_eq!(r.status, 422);
            }
        }
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let r = try_code(app, &app.base, &path, "SAVE10", Some("198.51.100.7")).await;
        assert_eq!(r.status, 429, "the client behind the proxy used up its tries");
        // Another customer behind the same proxy is not locked out.
        let r = try_code(app, &app.base, &path, "SAVE10", Some("198.51.100.8")).await;
        assert_eq!(r.status, 200, "{}", promo_error(&r));
    }
}
