//! What every instance keeps in memory (product pricings) never outlives a change made through
//! another instance: the company's `cache_version`, read with each page's own rows, retires it.

use crate::checkout::{catalog, create, get_page, order};

on_both_stores! {
    async fn a_pricing_archived_through_one_instance_is_no_longer_sold_by_another(app) {
        let c = catalog(app).await;
        let (_, path) = create(app, &order(&c, |_| {})).await;
        let other = app.another_process().await;
        let page_on = |base: &str| format!("{base}{path}");

        // The second instance shows the page, and so keeps the pricings in memory.
        let r = app.client.get(page_on(&other.base)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.text().await.unwrap().contains("$574.00"));

        // Archived through the first instance (the merchant's API call landed there).
        app.post_company(&format!("/product_pricings/{}/archive", c.team), &serde_json::json!({})).await.ok();

        // The second instance sees it on its next request: the order can no longer be bought.
        let r = app.client.get(page_on(&other.base)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 410);
        let (status, _) = get_page(app, &path).await;
        assert_eq!(status, 410);
        // And a new checkout for it is refused, on either instance.
        let r = app.post_company("/checkout", &order(&c, |_| {})).await;
        assert_eq!(r.status, 422, "{:?}", r.body);
        other.stop().await;
    }
}

/// Pay the checkout at `path` through the server at `base`, as a browser would.
async fn pay_through(app: &crate::support::TestApp, base: &str, path: &str) {
    let page = app.client.get(format!("{base}{path}")).send().await.unwrap().text().await.unwrap();
    let mut form: Vec<(&str, &str)> = vec![];
    let csrf = crate::checkout::csrf_of(&page);
    form.push(("csrf", csrf.as_str()));
    form.extend(crate::checkout::pay_fields(crate::checkout::SUCCESS));
    let r = app.client.post(format!("{base}{path}")).form(&form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
}

on_both_stores! {
    async fn an_endpoint_added_or_disabled_through_one_instance_is_seen_by_the_next_payment_on_another(app) {
        let c = catalog(app).await;
        let first = app.post_company("/webhook_endpoints", &serde_json::json!({"url": "http://127.0.0.1:9/first"})).await;
        let first = first.ok()["id"].as_str().unwrap().to_string();
        let other = app.another_process().await;

        // A payment on the second instance: it keeps the company's endpoints in memory.
        let (_, path) = create(app, &order(&c, |_| {})).await;
        pay_through(app, &other.base, &path).await;
        let of = |endpoint: &str| format!("endpoint_id = '{endpoint}'");
        assert_eq!(crate::checkout::count_where(app, "webhook_deliveries", &of(&first)).await, 3);

        // Through the first instance: a new endpoint, and the old one switched off.
        let second = app.post_company("/webhook_endpoints", &serde_json::json!({"url": "http://127.0.0.1:9/second"})).await;
        let second = second.ok()["id"].as_str().unwrap().to_string();
        app.post_company(&format!("/webhook_endpoints/{first}/disable"), &serde_json::json!({})).await.ok();

        // The next payment on the second instance tells the new endpoint only.
        let (_, path) = create(app, &order(&c, |_| {})).await;
        pay_through(app, &other.base, &path).await;
        assert_eq!(crate::checkout::count_where(app, "webhook_deliveries", &of(&second)).await, 3);
        assert_eq!(crate::checkout::count_where(app, "webhook_deliveries", &of(&first)).await, 3);
        other.stop().await;
    }
}
