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
